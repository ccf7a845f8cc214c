-- 0001 initial schema: the seven tables of the embedded scheduler.
--
-- Conventions (see README "Time and types"):
--   * every time is INTEGER milliseconds since 1970-01-01T00:00:00Z (UTC), bound by the
--     runtime from its clock; the views in 0003/0004 render them as ISO-8601 text;
--   * every JSON document is TEXT checked with json_valid();
--   * booleans are INTEGER 0/1 with a CHECK; enum-like columns have a CHECK listing values,
--     written as ORs of equalities: SQLite evaluates `x IN ('a', 'b', 'c')` (more than two
--     constants) by building a temporary b-tree every time the expression runs, which for
--     a CHECK or a partial index means on every insert and update of the row; the ORs cost
--     a few comparisons (batched enqueue ran 2.8x faster);
--   * tables are STRICT, so a wrong type is an error instead of a silent conversion.
-- The file runs unchanged in the sqlite3 shell (3.37 or newer): `sqlite3 db.sqlite < file`.

-- A persisted definition of work: a schedule (cron or fixed interval) or a named task
-- that can be triggered by hand. One-off jobs do not need a row here: their run carries
-- everything, so enqueueing one costs a single insert.
CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    job_type       TEXT    NOT NULL CHECK (length(job_type) BETWEEN 1 AND 200),
    payload        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    priority       INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    max_attempts   INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 1000),
    timeout_ms     INTEGER CHECK (timeout_ms > 0),
    backoff_ms     INTEGER NOT NULL DEFAULT 1000 CHECK (backoff_ms >= 0),
    unique_key     TEXT    CHECK (length(unique_key) BETWEEN 1 AND 500),
    schedule_kind  TEXT    NOT NULL DEFAULT 'none'
                           CHECK (schedule_kind = 'none' OR schedule_kind = 'cron'
                                  OR schedule_kind = 'interval'),
    cron_expr      TEXT    CHECK (length(cron_expr) BETWEEN 1 AND 200),
    interval_ms    INTEGER CHECK (interval_ms > 0),
    timezone       TEXT    CHECK (length(timezone) BETWEEN 1 AND 100),
    misfire_policy TEXT    NOT NULL DEFAULT 'run_once'
                           CHECK (misfire_policy = 'run_once' OR misfire_policy = 'run_all'
                                  OR misfire_policy = 'skip'),
    misfire_cap    INTEGER NOT NULL DEFAULT 100 CHECK (misfire_cap BETWEEN 1 AND 100000),
    next_run_at    INTEGER,
    last_run_at    INTEGER,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    is_deleted     INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    deleted_at     INTEGER,
    version        INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK ((schedule_kind = 'cron') = (cron_expr IS NOT NULL)),
    CHECK ((schedule_kind = 'interval') = (interval_ms IS NOT NULL)),
    CHECK (timezone IS NULL OR schedule_kind = 'cron'),
    CHECK ((is_deleted = 1) = (deleted_at IS NOT NULL))
) STRICT;

-- A name identifies one live task; a soft-deleted task frees its name.
CREATE UNIQUE INDEX tasks_name_live ON tasks (name) WHERE is_deleted = 0;

-- One row per running scheduler instance (process). Rows are kept after the instance
-- stops (status 'offline') so the history of runs can name who ran them.
CREATE TABLE workers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    host           TEXT    NOT NULL,
    pid            INTEGER NOT NULL CHECK (pid >= 0),
    threads        INTEGER NOT NULL CHECK (threads BETWEEN 1 AND 1024),
    version        TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'active'
                           CHECK (status = 'active' OR status = 'stopping'
                                  OR status = 'offline'),
    started_at     INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    stopped_at     INTEGER,
    updated_at     INTEGER NOT NULL,
    CHECK ((status = 'offline') = (stopped_at IS NOT NULL))
) STRICT;

-- One occurrence of work, with its whole life: status, attempts, lease token, result and
-- the error of every failed attempt (a JSON array). task_runs has no updated_at trigger:
-- it is the hot table, and each transition stamps its own column (started_at,
-- finished_at, the error's "at").
--
-- worker_id is history ("who ran it last"), deliberately not a foreign key: pruning old
-- worker rows must never scan millions of runs. The live ownership is task_locks.
--
-- Run ids are never reused (a run id names one run forever: in hosts' own tables, in
-- the archive, and with its lease token in every fenced write). SQLite gives a new row
-- the largest id plus one, so ids can only come back if the newest run is deleted; the
-- newest run is therefore never deleted: retention skips it, and the trigger
-- task_runs_keep_newest (0003) refuses it. AUTOINCREMENT would guarantee the same by
-- writing its counter on every enqueue: one more page per transaction, 30% of a single
-- enqueue.
CREATE TABLE task_runs (
    id               INTEGER PRIMARY KEY,
    task_id          INTEGER REFERENCES tasks (id) ON DELETE CASCADE,
    job_type         TEXT    NOT NULL CHECK (length(job_type) BETWEEN 1 AND 200),
    payload          TEXT    NOT NULL CHECK (json_valid(payload)),
    status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status = 'blocked' OR status = 'pending'
                                    OR status = 'running' OR status = 'completed'
                                    OR status = 'failed' OR status = 'cancelled'),
    priority         INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    attempt          INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts     INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 1000),
    timeout_ms       INTEGER CHECK (timeout_ms > 0),
    backoff_ms       INTEGER NOT NULL DEFAULT 1000 CHECK (backoff_ms >= 0),
    unique_key       TEXT    CHECK (length(unique_key) BETWEEN 1 AND 500),
    scheduled_at     INTEGER NOT NULL,
    blocked_on       INTEGER NOT NULL DEFAULT 0 CHECK (blocked_on >= 0),
    worker_id        INTEGER,
    lease_token      INTEGER NOT NULL DEFAULT 0 CHECK (lease_token >= 0),
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    cancel_reason    TEXT,
    started_at       INTEGER,
    finished_at      INTEGER,
    duration_ms      INTEGER CHECK (duration_ms >= 0),
    result           TEXT    CHECK (result IS NULL OR json_valid(result)),
    last_error       TEXT,
    errors           TEXT    CHECK (errors IS NULL OR json_valid(errors)),
    created_at       INTEGER NOT NULL,
    CHECK (attempt <= max_attempts),
    CHECK (status <> 'blocked' OR blocked_on > 0),
    CHECK ((status = 'completed' OR status = 'failed' OR status = 'cancelled')
           = (finished_at IS NOT NULL)),
    CHECK (cancel_reason IS NULL OR status = 'cancelled' OR cancel_requested = 1)
) STRICT;

-- One run per task and scheduled time, so two processes materialising the same cron
-- occurrence create it once. One-off runs (task_id NULL) are not in this index at all.
CREATE UNIQUE INDEX task_runs_task_occurrence
    ON task_runs (task_id, scheduled_at) WHERE task_id IS NOT NULL;

-- A unique key names at most one unfinished run; once that run finishes the key is free.
CREATE UNIQUE INDEX task_runs_unique_key_live
    ON task_runs (unique_key)
    WHERE unique_key IS NOT NULL
      AND (status = 'blocked' OR status = 'pending' OR status = 'running');

-- Edges of the dependency DAG between runs: downstream waits for upstream.
-- on_failure = 'cancel': a permanent failure upstream cancels the downstream run
-- (upstream_failed); 'run': the downstream run runs anyway.
-- resolved = 1 once the upstream finished and the downstream's blocked_on counter was
-- settled for this edge, so an edge is counted exactly once even if the upstream is
-- later retried by hand. blocked_on of a run = its edges with resolved = 0.
CREATE TABLE task_dependencies (
    downstream_id INTEGER NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    upstream_id   INTEGER NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    on_failure    TEXT    NOT NULL DEFAULT 'cancel' CHECK (on_failure IN ('cancel', 'run')),
    resolved      INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (downstream_id, upstream_id),
    CHECK (downstream_id <> upstream_id)
) STRICT, WITHOUT ROWID;

-- Row leases: the worker that holds a run, until when, and the fencing token of this
-- grant. One lease per run (the primary key). A run is executed only under a live lease;
-- every later write of the holder is checked against (run_id, token).
CREATE TABLE task_locks (
    run_id      INTEGER PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
    worker_id   INTEGER NOT NULL REFERENCES workers (id),
    token       INTEGER NOT NULL CHECK (token >= 1),
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CHECK (expires_at >= acquired_at)
) STRICT;

-- Revoked token ids (or their hashes) for hosts that authenticate job submissions.
-- Each row lives until expires_at (plus the validation leeway), then maintenance purges it.
CREATE TABLE jwt_token_blacklist (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id   TEXT    NOT NULL UNIQUE CHECK (length(token_id) BETWEEN 1 AND 512),
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    reason     TEXT
) STRICT;

-- Key/value rows the runtime itself uses: the global pause flag, maintenance leadership
-- and the record of each maintenance pass.
CREATE TABLE system_state (
    key        TEXT    PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
