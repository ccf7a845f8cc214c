-- The highest priority at or below :at_most that has pending runs. The claimer walks
-- the priority groups from the top with this seek and claims due runs inside each group
-- in scheduled order, so delayed runs are never scanned. The caller checks the global
-- pause flag (system_state 'paused') first in the same transaction: as a term of this
-- query it would be tested against every pending run while paused.
SELECT priority
FROM task_runs
WHERE status = 'pending'
  AND priority <= :at_most
ORDER BY priority DESC
LIMIT 1;
