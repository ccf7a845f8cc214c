-- Enqueue a batch without unique keys in one statement (one round trip, one firing of
-- the notify trigger), in the batch's order: $1 task ids (bigint[], NULLs allowed),
-- $2 job types, $3 payloads (JSON text), $4 priorities, $5 max attempts, $6 timeouts
-- in ms (NULLs allowed), $7 backoffs in ms, $8 due times, each the batch's length;
-- $9 now, $10 queues (text[]). Ids are drawn in that order, so the caller maps the returned ids, sorted, to
-- the batch. A batch with a unique key goes row by row (runs_insert.sql) instead.
INSERT INTO task_runs (
    task_id, job_type, payload, status, priority, max_attempts, timeout_ms, backoff_ms,
    scheduled_at, created_at, queue
)
SELECT r.task_id, r.job_type, r.payload::jsonb, 'pending', r.priority, r.max_attempts,
       r.timeout_ms, r.backoff_ms, r.scheduled_at, $9, r.queue
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
            $6::bigint[], $7::bigint[], $8::bigint[], $10::text[]) WITH ORDINALITY
    AS r (task_id, job_type, payload, priority, max_attempts, timeout_ms, backoff_ms,
          scheduled_at, queue, ord)
ORDER BY r.ord
RETURNING id;
