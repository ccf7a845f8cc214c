-- Whether any run waits in the settle queue (including runs another transaction is
-- settling now: it puts them back if they do not all fit).
SELECT EXISTS (SELECT 1 FROM task_settle_queue);
