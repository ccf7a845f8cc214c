-- The step failed: undo what it wrote (release the savepoint after this).
ROLLBACK TO runloom_step;
