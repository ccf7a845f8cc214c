UPDATE workers
SET status = 'offline',
    stopped_at = :now,
    updated_at = :now
WHERE id = :id
  AND status <> 'offline';
