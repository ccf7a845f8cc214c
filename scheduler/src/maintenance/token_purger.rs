//! Purges revoked tokens whose expiry is older than the validation leeway
//! ([`super::MaintenanceConfig::token_leeway`], 60 s): until then a token could still be
//! presented and must be answered "revoked" (`sql/maintenance/tokens_purge_expired.sql`).

use crossbeam_channel::Receiver;

use std::time::Duration;

use super::{Counts, Ctx, MaintenanceConfig, MaintenanceService, Pass, TokenCounts};
use crate::error::Result;

/// [`Service::TokenPurge`](super::Service::TokenPurge).
pub(crate) struct TokenPurger;

/// The token purge service's settings ([`super::MaintenanceConfig::token_purge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPurgeConfig {
    /// How often expired revoked tokens are purged. Defaults to
    /// [`super::DEFAULT_TOKEN_PURGE_INTERVAL`] (60 s).
    pub interval: Duration,
    /// How long past its expiry a revoked token is kept (the validation leeway of the
    /// host's token checks). Defaults to [`super::DEFAULT_TOKEN_LEEWAY`] (60 s).
    pub leeway: Duration,
}

impl Default for TokenPurgeConfig {
    fn default() -> Self {
        TokenPurgeConfig {
            interval: super::DEFAULT_TOKEN_PURGE_INTERVAL,
            leeway: super::DEFAULT_TOKEN_LEEWAY,
        }
    }
}

impl MaintenanceService for TokenPurger {
    fn interval(&self, config: &MaintenanceConfig) -> Duration {
        config.token_purge.interval
    }

    fn run_once(&self, cx: &Ctx<'_>, stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts> {
        let mut counts = TokenCounts::default();
        pass.drain(
            cx,
            stop,
            |tx, size, now, _| {
                let before = crate::model::time::shift(now, cx.config.token_purge.leeway, false);
                let n = tx.purge_expired_tokens(before, size)?;
                Ok((n, n))
            },
            |n| counts.purged += n as u64,
        )?;
        Ok(Counts::TokenPurge(counts))
    }
}
