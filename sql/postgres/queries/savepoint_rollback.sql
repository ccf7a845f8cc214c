-- Undoes what the innermost step wrote (RELEASE it next).
ROLLBACK TO SAVEPOINT runloom_step;
