-- 0002 indexes for the hot queries. Partial indexes keep each one as small as the rows the
-- query can match, so the claim, expiry and unblock paths stay index seeks as history grows.
-- (Runs by task use task_runs_task_occurrence from 0001, which is (task_id, scheduled_at).)

-- Claim: pending runs, highest priority first, then oldest. The claimer walks the priority
-- groups present and, inside each, seeks scheduled_at <= now in order, so delayed runs are
-- never scanned (sql/queries/runs_claim_*.sql).
CREATE INDEX task_runs_pending_due
    ON task_runs (priority, scheduled_at) WHERE status = 'pending';

-- Runs waiting on dependencies (counts and inspection; only DAG runs pay for it).
CREATE INDEX task_runs_blocked ON task_runs (id) WHERE status = 'blocked';

-- Finished runs by status and age: retention/archiving in bounded batches, and counts.
CREATE INDEX task_runs_finished
    ON task_runs (status, finished_at) WHERE finished_at IS NOT NULL;

-- Leases by expiry (rescue of expired leases) and by holder (heartbeat, stale workers).
CREATE INDEX task_locks_expiry ON task_locks (expires_at);
CREATE INDEX task_locks_worker ON task_locks (worker_id);

-- Live workers by heartbeat (stale worker detection).
CREATE INDEX workers_heartbeat ON workers (last_heartbeat) WHERE status <> 'offline';

-- Blacklisted tokens by expiry (purge).
CREATE INDEX jwt_token_blacklist_expiry ON jwt_token_blacklist (expires_at);

-- Dependents of a run (unblock and cancel cascade look for its unresolved edges); the
-- primary key (downstream_id, upstream_id) serves the other direction.
CREATE INDEX task_dependencies_upstream ON task_dependencies (upstream_id, resolved);

-- Schedules due to materialise their next occurrence.
CREATE INDEX tasks_schedule_due
    ON tasks (next_run_at)
    WHERE schedule_kind <> 'none' AND enabled = 1 AND is_deleted = 0;
