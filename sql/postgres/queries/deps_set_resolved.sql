-- Mark the edge from upstream $2 to downstream $1 settled ($3 = 1) or waiting ($3 = 0):
-- a run retried by hand looks at its upstream edges again.
UPDATE task_dependencies
SET resolved = $3
WHERE downstream_id = $1
  AND upstream_id = $2;
