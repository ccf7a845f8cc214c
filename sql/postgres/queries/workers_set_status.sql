-- Worker $1 goes to status $2 (active <-> stopping) at $3; going offline uses
-- workers_mark_offline.sql.
UPDATE workers
SET status = $2,
    updated_at = $3
WHERE id = $1
  AND status <> 'offline';
