-- Whether any run still waits on run $1 through an unresolved edge: one seek in
-- task_dependencies_upstream, so finishing a run with no dependents (most runs) skips
-- the resolve and release statements.
SELECT EXISTS (
    SELECT 1 FROM task_dependencies WHERE upstream_id = $1 AND resolved = 0
);
