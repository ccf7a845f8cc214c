-- A number that changes whenever another connection commits to the database: a plan made
-- on a snapshot is still good if it has not changed by the time the write lock is held.
PRAGMA data_version;
