SELECT version::bigint AS version, name, checksum, applied_at, duration_ms
FROM scheduler_migrations
ORDER BY version;
