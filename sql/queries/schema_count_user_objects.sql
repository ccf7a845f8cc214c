-- Objects that are neither SQLite's own nor the migration runner's: a database with such
-- objects but no migration history belongs to another application.
SELECT count(*)
FROM sqlite_schema
WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND name <> 'scheduler_migrations';
