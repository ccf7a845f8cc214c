-- Every stored edge among the ancestors of the runs $1 (bigint[]), resolved edges
-- included: what the cycle check may walk, loaded in one round trip rather than a query
-- per run it reaches. With $1 the runs the new edges name, this is exactly the part of
-- the graph a walk along "waits for" from the new edges' downstreams can reach. Each
-- step is a prefix scan of the primary key.
WITH RECURSIVE reach (id) AS (
    SELECT unnest($1::bigint[])
    UNION
    SELECT d.upstream_id FROM task_dependencies AS d JOIN reach ON d.downstream_id = reach.id
)
SELECT d.downstream_id, d.upstream_id
FROM reach
JOIN task_dependencies AS d ON d.downstream_id = reach.id;
