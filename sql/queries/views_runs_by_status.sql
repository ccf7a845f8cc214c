-- The runs_by_status view, for operators' tools.
SELECT * FROM runs_by_status LIMIT :limit;
