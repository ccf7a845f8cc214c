-- Soft delete under optimistic locking: the row stays (its runs keep their history) but
-- the task is no longer live and its name is free.
UPDATE tasks
SET is_deleted = 1,
    deleted_at = :now,
    enabled = 0,
    version = version + 1,
    updated_at = :now
WHERE id = :id
  AND version = :version
  AND is_deleted = 0;
