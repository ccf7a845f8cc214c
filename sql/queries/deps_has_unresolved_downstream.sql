-- Whether any run still waits on :id through an unresolved edge: one seek in
-- task_dependencies_upstream, so finishing a run with no dependents (most runs) skips
-- the unblock and resolve statements.
SELECT EXISTS (
    SELECT 1 FROM task_dependencies WHERE upstream_id = :id AND resolved = 0
);
