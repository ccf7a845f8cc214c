-- What a claim must honour, in one round trip: whether claiming is paused for every
-- host (system_state 'paused' = '1') and the queues operators paused (task_queues).
SELECT coalesce((SELECT value = '1' FROM system_state WHERE key = 'paused'), false)
           AS paused,
       ARRAY(SELECT name FROM task_queues WHERE paused = 1 ORDER BY name) AS queues;
