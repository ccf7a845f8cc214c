-- Marks a point a failed step of a write transaction rolls back to (savepoint_rollback.sql),
-- so the rest of the transaction can go on without that step.
SAVEPOINT runloom_step;
