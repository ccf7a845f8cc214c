-- The migration runner's record of applied migrations (one row per applied version), as
-- on SQLite. Created inside the runner's transaction, after its advisory lock, so two
-- hosts creating it at once cannot collide in the catalog.
CREATE TABLE IF NOT EXISTS scheduler_migrations (
    version     integer PRIMARY KEY CHECK (version >= 1),
    name        text    NOT NULL,
    checksum    text    NOT NULL CHECK (length(checksum) = 64),
    applied_at  bigint  NOT NULL,
    duration_ms bigint  NOT NULL CHECK (duration_ms >= 0)
);
