-- A run copied from another database (`runloom copy-to`) gets back the history the
-- insert cannot give it: the attempts already started, their errors (JSON array text,
-- or NULL) and the last message, and when it was first enqueued. Only a run that has
-- not started here yet, so a copy never rewrites a run a worker holds.
UPDATE task_runs
SET attempt = :attempt,
    errors = :errors,
    last_error = :last_error,
    created_at = :created_at
WHERE id = :id
  AND status IN ('pending', 'blocked')
  AND attempt = 0;
