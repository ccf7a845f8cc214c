-- Runs $1[i] (bigint[]) have $2[i] (bigint[]) more unresolved upstream edges: blocked,
-- if they have not started. A run cancelled by an edge of the same batch stays so.
-- One statement per row (blocked_on + n), so it composes with concurrent releases.
UPDATE task_runs AS r
SET blocked_on = r.blocked_on + b.n,
    status = 'blocked'
FROM unnest($1::bigint[], $2::bigint[]) AS b (id, n)
WHERE r.id = b.id
  AND r.status IN ('blocked', 'pending');
