-- Worker $1 stops at $2.
UPDATE workers
SET status = 'offline',
    stopped_at = $2,
    updated_at = $2
WHERE id = $1
  AND status <> 'offline';
