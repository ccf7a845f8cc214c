SELECT expires_at FROM jwt_token_blacklist WHERE token_id = :token_id;
