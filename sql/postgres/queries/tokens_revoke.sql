-- Revoke token id $1 until $2 (its own expiry), reason $3, at $4; revoking again keeps
-- the later expiry.
INSERT INTO jwt_token_blacklist (token_id, expires_at, revoked_at, reason)
VALUES ($1, $2, $4, $3)
ON CONFLICT (token_id) DO UPDATE
SET expires_at = GREATEST(jwt_token_blacklist.expires_at, excluded.expires_at);
