-- The status of run $1, locking its row until the transaction ends: a control write
-- (cancel, retry by hand) decides on a status no other host can change meanwhile.
SELECT status FROM task_runs WHERE id = $1 FOR UPDATE;
