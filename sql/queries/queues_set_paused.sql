-- Pause (:paused = 1) or resume (0) one queue for every process on the database; the
-- row is created the first time. Returns whether it changed.
INSERT INTO task_queues (name, paused, updated_at)
VALUES (:name, :paused, :now)
ON CONFLICT (name) DO UPDATE
SET paused = excluded.paused,
    updated_at = excluded.updated_at
WHERE task_queues.paused <> excluded.paused
RETURNING name;
