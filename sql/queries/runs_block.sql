-- One more unresolved upstream edge for a run that has not started.
UPDATE task_runs
SET blocked_on = blocked_on + 1,
    status = 'blocked'
WHERE id = :id
  AND status IN ('blocked', 'pending');
