-- Copies the write-ahead log back into the database file as far as readers and the
-- writer allow, without waiting for them. One row: busy (0/1), pages in the log, pages
-- copied. Run by the scheduler's checkpoint thread (store/checkpoint.rs).
PRAGMA wal_checkpoint(PASSIVE);
