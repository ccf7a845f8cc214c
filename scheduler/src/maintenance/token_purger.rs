//! Purges revoked tokens whose expiry is older than the validation leeway
//! ([`super::MaintenanceConfig::token_leeway`], 60 s): until then a token could still be
//! presented and must be answered "revoked" (`sql/maintenance/tokens_purge_expired.sql`).

use crossbeam_channel::Receiver;

use super::{Counts, Ctx, Pass, PassReport, TokenCounts};
use crate::error::Result;

pub(crate) fn run_once(cx: &Ctx<'_>, stop: &Receiver<()>, mut pass: Pass) -> Result<PassReport> {
    let mut counts = TokenCounts::default();
    pass.drain(
        cx,
        stop,
        |tx, size, now, _| {
            let before = crate::clock::shift(now, cx.config.token_leeway, false);
            let n = tx.purge_expired_tokens(before, size)?;
            Ok((n, n))
        },
        |n| counts.purged += n as u64,
    )?;
    Ok(pass.finish(Counts::TokenPurge(counts)))
}
