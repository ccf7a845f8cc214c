-- The highest priority at or below :at_most that has pending runs, unless the scheduler
-- is paused (system_state 'paused' = '1' stops every process from claiming).
-- The claimer walks priority groups from the top with this seek and claims due runs
-- inside each group in scheduled order, so delayed runs are never scanned.
SELECT priority
FROM task_runs
WHERE status = 'pending'
  AND priority <= :at_most
  AND NOT EXISTS (SELECT 1 FROM system_state WHERE key = 'paused' AND value = '1')
ORDER BY priority DESC
LIMIT 1;
