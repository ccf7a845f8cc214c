-- Purge blacklisted tokens that expired before :before (the caller passes now minus the
-- validation leeway, so a token is never forgotten while it could still validate).
DELETE FROM jwt_token_blacklist
WHERE id IN (
    SELECT id FROM jwt_token_blacklist
    WHERE expires_at < :before
    ORDER BY expires_at
    LIMIT :batch
);
