-- Finished run $1 whose dependents are not all settled yet: a later transaction, on any
-- host, goes on. Already queued: nothing to do (a taker deleting the row meanwhile makes
-- this wait for it, then insert).
INSERT INTO task_settle_queue (run_id) VALUES ($1) ON CONFLICT (run_id) DO NOTHING;
