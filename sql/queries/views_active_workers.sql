-- The active_workers view, for operators' tools.
SELECT * FROM active_workers LIMIT :limit;
