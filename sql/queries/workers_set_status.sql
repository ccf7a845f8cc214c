-- active <-> stopping; going offline uses workers_mark_offline.sql.
UPDATE workers
SET status = :status,
    updated_at = :now
WHERE id = :id
  AND status <> 'offline';
