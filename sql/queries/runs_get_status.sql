SELECT status FROM task_runs WHERE id = :id;
