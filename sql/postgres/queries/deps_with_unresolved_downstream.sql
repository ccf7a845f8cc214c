-- Which of the runs $1 (ids) some run still waits on through an unresolved edge: one
-- statement for a whole batch of finished runs (a rescue's), seeks in
-- task_dependencies_upstream, so that only those with dependents are settled one by one
-- and the rest (most runs) cost no round trip each.
SELECT DISTINCT upstream_id
FROM task_dependencies
WHERE upstream_id = ANY ($1::bigint[]) AND resolved = 0;
