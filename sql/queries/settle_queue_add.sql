-- A finished run whose dependents are not all settled yet: the next transaction goes on.
INSERT INTO task_settle_queue (run_id) VALUES (:run_id) ON CONFLICT (run_id) DO NOTHING;
