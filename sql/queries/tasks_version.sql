SELECT version, is_deleted FROM tasks WHERE id = :id;
