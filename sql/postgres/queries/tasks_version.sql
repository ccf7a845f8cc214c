-- Why a versioned write changed nothing: the task's version now, and whether it is
-- deleted (no row: it does not exist).
--   $1 id (bigint)
SELECT version, is_deleted FROM tasks WHERE id = $1;
