-- Soft delete under optimistic locking: the row stays (its runs keep their history) but
-- the task is no longer live and its name is free. One statement, so the version test
-- and the write are atomic.
--   $1 id (bigint), $2 expected version (bigint), $3 now (bigint ms)
UPDATE tasks
SET is_deleted = 1,
    deleted_at = $3,
    enabled = 0,
    version = version + 1,
    updated_at = $3
WHERE id = $1
  AND version = $2
  AND is_deleted = 0;
