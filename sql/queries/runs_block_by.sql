-- :n more unresolved upstream edges for a run that has not started.
UPDATE task_runs
SET blocked_on = blocked_on + :n,
    status = 'blocked'
WHERE id = :id
  AND (status = 'blocked' OR status = 'pending');
