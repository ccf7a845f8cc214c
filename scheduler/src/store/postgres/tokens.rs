//! `jwt_token_blacklist`: revoked token ids, kept until their expiry (as on SQLite,
//! `store/tokens.rs`).

use time::OffsetDateTime;

use super::{PgTx, sql};
use crate::{backend::values::ms, error::Result};

impl PgTx<'_> {
    pub(crate) fn is_token_revoked(&self, token_id: &str) -> Result<bool> {
        crate::model::validate_token_id(token_id)?;
        Ok(self.query_opt(sql::TOKENS_GET, &[&token_id])?.is_some())
    }

    pub(crate) fn revoke_token(
        &self,
        token_id: &str,
        expires_at: OffsetDateTime,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        crate::model::validate_token_id(token_id)?;
        self.execute(
            sql::TOKENS_REVOKE,
            &[&token_id, &ms(expires_at), &reason, &ms(now)],
        )?;
        Ok(())
    }
}
