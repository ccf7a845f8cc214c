INSERT INTO scheduler_migrations (version, name, checksum, applied_at, duration_ms)
VALUES ($1, $2, $3, $4, $5);
