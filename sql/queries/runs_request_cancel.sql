-- Ask a running run to stop: its holder sees the flag at the next heartbeat and the job
-- through its context; the holder records the outcome.
UPDATE task_runs
SET cancel_requested = 1,
    cancel_reason = :reason
WHERE id = :id
  AND status = 'running';
