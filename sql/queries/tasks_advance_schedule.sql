-- Move a schedule on after its occurrences up to now were created. Guarded by the
-- next_run_at the materializer read, so two processes never advance it twice. This is
-- bookkeeping, not an edit: the version used for optimistic locking does not change.
UPDATE tasks
SET next_run_at = :next_run_at,
    last_run_at = coalesce(:last_run_at, last_run_at),
    updated_at = :now
WHERE id = :id
  AND next_run_at = :expected;
