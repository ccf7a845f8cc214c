-- The readers' side of migrations_lock.sql: a status or a check waits for a migrating
-- host to commit, and no migration commits while it reads. A snapshot alone would not
-- do: PostgreSQL resolves table names from the current catalog, not the snapshot, so a
-- concurrent first migration could show its history table but none of its rows.
SELECT pg_advisory_xact_lock_shared(29292, 6908263);
