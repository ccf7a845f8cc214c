-- The performance_metrics view, for operators' tools.
SELECT * FROM performance_metrics LIMIT :limit;
