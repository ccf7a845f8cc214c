-- The runs a run waits for, resolved edges included (the cycle check walks the whole
-- graph): a prefix scan of the primary key.
SELECT upstream_id FROM task_dependencies WHERE downstream_id = :downstream_id;
