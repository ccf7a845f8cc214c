-- Ask the holder of running run $1 to stop, with reason $2; it finishes the run.
UPDATE task_runs
SET cancel_requested = 1,
    cancel_reason = $2
WHERE id = $1
  AND status = 'running';
