-- Each blocked run of $1 (bigint[], each at most once) has one unresolved upstream
-- fewer (it completed, or failed through an on_failure = 'run' edge); the runs whose
-- last it was become pending (released = true). A run cancelled meanwhile is left.
--
-- One statement for both cases (SQLite's runs_release_last_upstream.sql and this file):
-- two transactions releasing the same run at once each decrement the row version the
-- other committed (the SET is evaluated again on it), where a "last upstream?" test in
-- one statement and a decrement in another could both miss and lose a decrement.
UPDATE task_runs
SET blocked_on = blocked_on - 1,
    status = CASE WHEN blocked_on = 1 THEN 'pending' ELSE 'blocked' END
WHERE id = ANY ($1)
  AND status = 'blocked'
RETURNING id, status = 'pending' AS released;
