-- The status of each run of $1 (bigint[]) that exists, its row locked until the
-- transaction ends: the runs named by the edges being added, upstreams and downstreams.
--
-- An upstream that finishes on another host either committed its new status before
-- this lock was granted (a locking read sees the latest committed version, so the edge
-- is inserted resolved, or applies its on_failure at once), or its status update waits
-- here until the edge is committed, and its settling, in a later statement with a new
-- snapshot, sees the edge. A downstream cannot be claimed, cancelled or released
-- meanwhile either, so the status checked is the status the edge writes against.
--
-- NO KEY UPDATE: it excludes every status update (and FOR SHARE readers) but not the
-- KEY SHARE locks of foreign-key checks (a lease or an edge pointing at the run).
-- ORDER BY id: the rows are locked in id order, so two lockers of overlapping sets
-- wait for each other rather than deadlock.
SELECT id, status
FROM task_runs
WHERE id = ANY ($1)
ORDER BY id
FOR NO KEY UPDATE;
