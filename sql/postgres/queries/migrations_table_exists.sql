-- The history table in the schema the connection works in. Read from pg_class with the
-- statement's snapshot rather than with to_regclass: that one answers from the
-- session's catalog cache, which may not yet know of a table another host created
-- while this transaction waited for the migrations' lock.
SELECT EXISTS (
    SELECT 1 FROM pg_catalog.pg_class
    WHERE relname = 'scheduler_migrations'
      AND relnamespace = current_schema()::regnamespace
) AS present;
