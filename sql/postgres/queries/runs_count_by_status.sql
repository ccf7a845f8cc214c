-- Runs per status, each count answered from an index (the view's comment says how).
SELECT status, runs FROM runs_by_status;
