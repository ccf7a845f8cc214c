-- Whether any run waits in the settle queue (0006).
SELECT EXISTS (SELECT 1 FROM task_settle_queue);
