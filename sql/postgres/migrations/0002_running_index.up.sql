-- 0002: running runs by id. The running count of runs_by_status (the operator's
-- figures, every `stats` and dashboard refresh) joins the leases to their runs; with no
-- index on running runs the planner read all of task_runs to find the few running ones
-- once the table held history (tests/postgres_plans.rs caught it after 4 000 runs). The
-- index holds only the runs that run now, so it stays a few pages whatever the history,
-- and a claim or an ending adds or removes one entry (the status change was never a HOT
-- update anyway: status is in the other partial indexes' predicates).
CREATE INDEX task_runs_running ON task_runs (id) WHERE status = 'running';
