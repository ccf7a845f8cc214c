-- The runs_by_status view, for operators' tools, at most $1 (bigint) rows (its columns
-- are text and bigint already).
SELECT status, runs FROM runs_by_status LIMIT $1;
