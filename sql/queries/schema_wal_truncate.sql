-- Copies the whole write-ahead log into the database file and truncates the log to zero
-- bytes, waiting (briefly) for readers and the writer: how the space a log grew into is
-- given back after the disk filled up. One row, as schema_wal_checkpoint.sql.
PRAGMA wal_checkpoint(TRUNCATE);
