-- Create state key $1 with value $2 at $3 unless it exists, so that the next statement
-- can lock its row (state_lock.sql): a row that does not exist cannot be locked.
INSERT INTO system_state (key, value, updated_at)
VALUES ($1, $2, $3)
ON CONFLICT (key) DO NOTHING;
