-- Does :from (transitively) wait for :target? Walks upstream edges from :from. Used before
-- adding the edge target -> from, which would close a cycle if it does.
WITH RECURSIVE ancestors (id) AS (
    SELECT :from
    UNION
    SELECT d.upstream_id
    FROM task_dependencies AS d
    JOIN ancestors AS a ON d.downstream_id = a.id
)
SELECT 1 FROM ancestors WHERE id = :target LIMIT 1;
