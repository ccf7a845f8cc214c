-- The stale_workers view, for operators' tools.
SELECT * FROM stale_workers LIMIT :limit;
