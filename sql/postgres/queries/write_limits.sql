-- Bounds the write transactions of this session from now on (set outside a transaction,
-- so it holds until changed, and costs no round trip of its own in each transaction):
-- $1 how long any statement waits for a lock (the caller's deadline, as SQLite's busy
-- timeout), $2 how long any statement may run at all (the deadline plus a margin, so a
-- wedged server or a runaway plan cannot hold a dispatcher forever). Both as text with
-- units.
SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false);
