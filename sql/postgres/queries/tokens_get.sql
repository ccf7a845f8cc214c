-- The blacklist entry of token id $1, if any.
SELECT expires_at FROM jwt_token_blacklist WHERE token_id = $1;
