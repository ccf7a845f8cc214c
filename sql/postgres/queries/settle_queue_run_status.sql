-- The status of queued run $1, its row locked (FOR SHARE) until the transaction ends:
-- the run cannot be retried by hand while its edges are settled as its ending says, and
-- a retry that committed first is seen (the run is no longer finished, and its next
-- ending settles its dependents). No row: the run was removed since.
SELECT status FROM task_runs WHERE id = $1 FOR SHARE;
