-- Which of the edges ($1[i] waits for $2[i], two bigint[] of one length) exist already:
-- one primary-key probe per edge in one round trip, where SQLite asks edge by edge.
SELECT d.downstream_id, d.upstream_id
FROM unnest($1::bigint[], $2::bigint[]) AS e (downstream_id, upstream_id)
JOIN task_dependencies AS d
  ON d.downstream_id = e.downstream_id AND d.upstream_id = e.upstream_id;
