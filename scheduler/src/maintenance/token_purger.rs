//! Purges revoked tokens whose expiry is older than the validation leeway
//! ([`super::MaintenanceConfig::token_leeway`], 60 s): until then a token could still be
//! presented and must be answered "revoked" (`sql/maintenance/tokens_purge_expired.sql`).

use crossbeam_channel::Receiver;

use super::{Ctx, Pass, PassReport};
use crate::error::Result;

pub(crate) fn run_once(cx: &Ctx<'_>, stop: &Receiver<()>, mut pass: Pass) -> Result<PassReport> {
    let config = cx.config;
    let mut purged = 0u64;
    loop {
        let size = pass.size();
        let n = pass.batch(cx, |tx, now, _| {
            let before = crate::clock::shift(now, config.token_leeway, false);
            tx.purge_expired_tokens(before, size)
        })?;
        purged += n as u64;
        if n < size || !super::pause(stop, config.batch_pause) {
            break;
        }
    }
    Ok(pass.finish(vec![("purged", purged)]))
}
