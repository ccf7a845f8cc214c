-- The throughput_last_hour view, for operators' tools.
SELECT * FROM throughput_last_hour LIMIT :limit;
