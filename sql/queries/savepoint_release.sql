-- The step succeeded: keep what it wrote as part of the transaction.
RELEASE runloom_step;
