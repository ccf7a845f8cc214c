-- Move a schedule on after its occurrences up to now were created. Guarded by the
-- next_run_at the materializer read, so two processes never advance it twice (the second
-- waits for the first's row lock, then its test fails against the committed row). This
-- is bookkeeping, not an edit: the version used for optimistic locking does not change.
--   $1 id (bigint), $2 expected next_run_at (bigint ms), $3 next_run_at (bigint ms, NULL:
--   stopped), $4 last_run_at (bigint ms, NULL: unchanged), $5 now (bigint ms)
UPDATE tasks
SET next_run_at = $3,
    last_run_at = coalesce($4, last_run_at),
    updated_at = $5
WHERE id = $1
  AND next_run_at = $2;
