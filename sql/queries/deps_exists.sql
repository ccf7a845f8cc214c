SELECT 1 FROM task_dependencies WHERE downstream_id = :downstream_id AND upstream_id = :upstream_id;
