-- The expired_leases view, for operators' tools.
SELECT * FROM expired_leases LIMIT :limit;
