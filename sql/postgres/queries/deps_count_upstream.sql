-- How many edges each run of $1 (bigint[]) waits on, resolved ones included (the
-- fan-in limit counts them all); a run without edges has no row. Prefix scans of the
-- primary key.
SELECT downstream_id, count(*) AS n
FROM task_dependencies
WHERE downstream_id = ANY ($1)
GROUP BY downstream_id;
