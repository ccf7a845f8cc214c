-- The highest priority at or below :at_most that has pending runs in :queue. The claimer
-- walks the priority groups of each queue it runs from the top with this seek of
-- task_runs_pending_queue and claims due runs inside each group in scheduled order, so
-- delayed runs and other queues' runs are never scanned. The caller checks the pause
-- flags (system_state 'paused', task_queues) first in the same transaction: as a term of
-- this query they would be tested against every pending run while paused.
SELECT priority
FROM task_runs
WHERE status = 'pending'
  AND queue = :queue
  AND priority <= :at_most
ORDER BY priority DESC
LIMIT 1;
