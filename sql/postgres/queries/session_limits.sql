-- Bounds every session of the scheduler's, set once when it connects: $1 how long the
-- server keeps a transaction the host left idle (the host died or was cut off while it
-- held row locks: the locks are freed and the transaction rolled back), $2..$4 the
-- server's TCP keepalive timing (idle, interval, count) and $5 its TCP user timeout, so
-- the server also finds a host gone silent and ends its session. All as text with units.
SELECT set_config('idle_in_transaction_session_timeout', $1, false),
       set_config('tcp_keepalives_idle', $2, false),
       set_config('tcp_keepalives_interval', $3, false),
       set_config('tcp_keepalives_count', $4, false),
       set_config('tcp_user_timeout', $5, false);
