-- The oldest queued run no other transaction is settling, taken off the queue
-- (settling puts it back if its dependents do not all fit in this transaction). SKIP
-- LOCKED: hosts settling at once take different runs rather than queue up behind one;
-- a run skipped here is another's until it commits, and back in the queue if it rolls
-- back. No row: nothing is free to take.
DELETE FROM task_settle_queue
WHERE run_id = (
    SELECT run_id FROM task_settle_queue ORDER BY run_id LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING run_id;
