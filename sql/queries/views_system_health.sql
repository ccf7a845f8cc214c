-- The system_health view, for operators' tools.
SELECT * FROM system_health LIMIT :limit;
