-- Opens a step of a transaction (PgTx::step): its writes can be undone alone.
SAVEPOINT runloom_step;
