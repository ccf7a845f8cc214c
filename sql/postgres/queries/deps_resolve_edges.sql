-- Mark up to $2 (bigint) of finished run $1's unresolved edges to its dependents as
-- settled, returning each dependent and what it does on failure (the rest wait for the
-- next transaction, through the settle queue).
--
-- Exactly once with concurrent settlers (a queue worker and a run's new ending, say):
-- the WITH query locks each edge it returns and, when another transaction holds one,
-- waits for it, then re-checks resolved = 0 on the committed version and drops the edge
-- if that one settled it; LIMIT counts only the edges that pass, so up to $2 edges
-- still unresolved are taken. Not SKIP LOCKED: an edge held by another transaction is
-- not always being settled by it (a retry by hand re-opens edges with
-- deps_set_resolved.sql), and one skipped here that it leaves unresolved would wait
-- forever, as nothing would count it in the has-unresolved check that decides whether
-- to queue.
--
-- UPDATE has no LIMIT, hence the WITH query, run once (an IN (sub-select) may be planned
-- as a semi-join that runs it again per edge, and, as its lock skips the rows this
-- statement already updated, slides its LIMIT past them). Each picked edge is then
-- updated through the primary key: `upstream_id + 0` keeps the planner from reading
-- the run's edges through task_dependencies_upstream once per picked edge instead (a
-- generic plan, which cannot tell a run with 10 000 dependents from one with 1, chose
-- that: quadratic in the fan-out).
WITH picked AS (
    SELECT downstream_id
    FROM task_dependencies
    WHERE upstream_id = $1
      AND resolved = 0
    LIMIT $2
    FOR NO KEY UPDATE
)
UPDATE task_dependencies AS d
SET resolved = 1
FROM picked
WHERE d.downstream_id = picked.downstream_id
  AND d.upstream_id + 0 = $1
RETURNING d.downstream_id, d.on_failure;
