-- One migrating host at a time, until its transaction ends: the runner takes this
-- before it reads the history to apply or revert a migration. The two keys are ours
-- (the letters "rl" and "mig"), so an application's own advisory locks, which commonly
-- use the one-key form, do not meet it.
SELECT pg_advisory_xact_lock(29292, 6908263);
