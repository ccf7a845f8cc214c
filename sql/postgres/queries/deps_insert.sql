-- New edges at $5: $1[i] (bigint[]) waits for $2[i] (bigint[]), on_failure $3[i]
-- (text[]), resolved $4[i] (smallint[], 1 when the upstream had already finished), in
-- one statement. The caller holds the graph lock (deps_lock_graph.sql) and checked that
-- none exists, so a conflict is a bug and fails loudly.
INSERT INTO task_dependencies (downstream_id, upstream_id, on_failure, resolved, created_at)
SELECT e.downstream_id, e.upstream_id, e.on_failure, e.resolved, $5
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[])
    AS e (downstream_id, upstream_id, on_failure, resolved);
