-- The migration runner's record of applied migrations (one row per applied version).
CREATE TABLE IF NOT EXISTS scheduler_migrations (
    version     INTEGER PRIMARY KEY CHECK (version >= 1),
    name        TEXT    NOT NULL,
    checksum    TEXT    NOT NULL CHECK (length(checksum) = 64),
    applied_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0)
) STRICT;
