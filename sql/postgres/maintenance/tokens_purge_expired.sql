-- Purge blacklisted tokens that expired before $1 (now minus the validation leeway),
-- oldest first, at most $2.
DELETE FROM jwt_token_blacklist
WHERE id IN (
    SELECT id FROM jwt_token_blacklist
    WHERE expires_at < $1
    ORDER BY expires_at
    LIMIT $2
);
