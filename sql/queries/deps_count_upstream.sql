SELECT count(*) FROM task_dependencies WHERE downstream_id = :downstream_id;
