-- 0006 bounded settling of dependents.
--
-- When a run finishes, the edges to its dependents are settled (released, or cancelled
-- with upstream_failed, transitively). A transaction settles at most a fixed number of
-- edges; the finished runs whose dependents are left go here, and the next
-- transactions (any process's dispatcher) continue from them. A crash loses nothing:
-- the queue is in the database, and settling an edge twice is impossible (resolved).
CREATE TABLE task_settle_queue (
    run_id INTEGER PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE
) STRICT;
