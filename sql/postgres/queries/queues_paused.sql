-- The queues operators paused (task_queues), read once per claim: the table holds a row
-- only for a queue someone paused or resumed, so this reads a handful of rows.
SELECT name FROM task_queues WHERE paused = 1;
