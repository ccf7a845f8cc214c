-- Revoke a token id until :expires_at. Revoking again keeps the later expiry.
INSERT INTO jwt_token_blacklist (token_id, expires_at, revoked_at, reason)
VALUES (:token_id, :expires_at, :now, :reason)
ON CONFLICT (token_id) DO UPDATE
SET expires_at = max(expires_at, excluded.expires_at);
