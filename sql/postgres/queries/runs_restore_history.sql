-- A run copied from another database (`runloom copy-to`) gets back the history the
-- insert cannot give it: $2 attempts already started, $3 their errors (JSON array text,
-- or NULL), $4 the last message and $5 when it was first enqueued, for run $1. Only a
-- run that has not started here yet, so a copy never rewrites a run a worker holds.
UPDATE task_runs
SET attempt = $2,
    errors = $3::text::jsonb,
    last_error = $4,
    created_at = $5
WHERE id = $1
  AND status IN ('pending', 'blocked')
  AND attempt = 0;
