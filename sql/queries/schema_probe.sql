-- The first read at open: SQLite reports a file that is not a database, or whose first
-- pages are damaged, here, before anything is written.
SELECT count(*) FROM sqlite_schema;
