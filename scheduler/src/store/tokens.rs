//! `jwt_token_blacklist`: revoked token ids, kept until their expiry.

use rusqlite::{OptionalExtension, named_params};
use time::OffsetDateTime;

use super::{ReadTx, WriteTx, sql, types::ms};
use crate::error::Result;

impl ReadTx<'_> {
    /// Whether `token_id` is revoked. An entry stays until maintenance purges it after
    /// its expiry (plus the leeway), so the answer is "revoked" at and after expiry
    /// until then; a failed lookup is an error, never "not revoked".
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized id; database errors.
    pub fn is_token_revoked(&self, token_id: &str) -> Result<bool> {
        crate::model::validate_token_id(token_id)?;
        Ok(self
            .conn()
            .prepare_cached(sql::TOKENS_GET)?
            .query_row(named_params! { ":token_id": token_id }, |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }
}

impl WriteTx<'_> {
    /// Revokes `token_id` until `expires_at` (the token's own expiry). Revoking again
    /// keeps the later expiry.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized id; database errors.
    pub fn revoke_token(
        &self,
        token_id: &str,
        expires_at: OffsetDateTime,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        crate::model::validate_token_id(token_id)?;
        self.conn()
            .prepare_cached(sql::TOKENS_REVOKE)?
            .execute(named_params! {
                ":token_id": token_id,
                ":expires_at": ms(expires_at),
                ":reason": reason,
                ":now": ms(now),
            })?;
        Ok(())
    }
}
