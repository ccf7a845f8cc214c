-- Drop the expired leases of one rescue batch: run $1[i] (bigint[]) with token $2[i],
-- each fenced by its token (a newer lease on the run is another attempt's). One
-- statement for the batch, beside runs_rescue_fenced.sql.
DELETE FROM task_locks AS l
USING unnest($1::bigint[], $2::bigint[]) AS b (run_id, token)
WHERE l.run_id = b.run_id
  AND l.token = b.token;
