SELECT status, runs FROM runs_by_status;
