-- Keeps what the innermost step wrote.
RELEASE SAVEPOINT runloom_step;
