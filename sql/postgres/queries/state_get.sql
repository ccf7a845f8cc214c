-- The value of state key $1.
SELECT value FROM system_state WHERE key = $1;
