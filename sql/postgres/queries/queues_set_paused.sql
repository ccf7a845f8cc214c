-- Pause ($2 = 1) or resume (0) queue $1 for every host, at $3; the row is created the
-- first time. Returns a row when it changed (a resume notifies 'resumed', 0005).
INSERT INTO task_queues (name, paused, updated_at)
VALUES ($1, $2::smallint, $3::bigint)
ON CONFLICT (name) DO UPDATE
SET paused = excluded.paused,
    updated_at = excluded.updated_at
WHERE task_queues.paused <> excluded.paused
RETURNING name;
