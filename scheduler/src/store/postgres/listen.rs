//! Wake-ups across hosts: a thread of each running scheduler holds a connection of its
//! own that `LISTEN`s on channel `runloom`, where the triggers of migration 0003 notify
//! every statement that makes work (a run inserted or put back to pending, a schedule
//! changed, claiming resumed), whoever wrote it: this library on any host, the CLI, or
//! another program. Each notification wakes this host's dispatcher, so an idle host
//! starts another host's work at once; the poll interval stays as the fallback.
//!
//! The connection is not the pool's: a listening session must stay open, and a pooled
//! one is handed to others. When it breaks (the server restarts, a network cut, an
//! administrator's `pg_terminate_backend`), the thread wakes the dispatcher (what was
//! sent meanwhile is lost, so it looks itself), backs off and connects again; the
//! connection is checked every few seconds, so a silently dead one is found too.

use std::{
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use postgres::{Client, Config, fallible_iterator::FallibleIterator};

use super::sql;
use crate::{
    backend::{Notice, Notify},
    error::{Error, Result},
    failing::Failing,
};

/// The application name of the listening sessions (as `pg_stat_activity` shows them).
pub(crate) const APPLICATION_NAME: &str = "runloom-listener";

/// How long one wait for notifications lasts before the thread looks at `stop`.
const WAIT: Duration = Duration::from_millis(200);

/// How often the listening session is checked (by listening again, which is
/// idempotent and needs the server to answer).
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Starts the listening thread; it ends when `stop` is closed.
pub(crate) fn spawn(
    config: &Config,
    network_timeout: Duration,
    stop: &Receiver<()>,
    notify: &Notify,
) -> Result<JoinHandle<()>> {
    let mut config = config.clone();
    config.application_name(APPLICATION_NAME);
    let (stop, notify) = (stop.clone(), notify.clone());
    std::thread::Builder::new()
        .name("runloom-listener".to_owned())
        .spawn(move || run(&config, network_timeout, &stop, &notify))
        .map_err(Error::Thread)
}

fn run(config: &Config, network_timeout: Duration, stop: &Receiver<()>, notify: &Notify) {
    let mut failing = Failing::new("listening for other hosts' notifications");
    loop {
        let e = match listen(config, network_timeout, stop, notify, &mut failing) {
            Ok(()) => return,
            Err(e) => e,
        };
        // Whatever was sent while the session was down is lost: look now.
        notify(Notice::Work);
        notify(Notice::Schedules);
        let pause = failing
            .failed(&e, "reconnecting")
            .max(Duration::from_millis(50));
        if matches!(
            stop.recv_timeout(pause),
            Err(RecvTimeoutError::Disconnected)
        ) {
            return;
        }
    }
}

/// Listens until `stop` is closed (`Ok`) or the session breaks (`Err`).
fn listen(
    config: &Config,
    network_timeout: Duration,
    stop: &Receiver<()>,
    notify: &Notify,
    failing: &mut Failing,
) -> Result<()> {
    let mut client = super::pool::connect(config, network_timeout)?;
    client.batch_execute(sql::NOTIFY_LISTEN)?;
    if failing.tries() > 0 {
        // Back after a break: what was sent meanwhile is lost.
        notify(Notice::Work);
        notify(Notice::Schedules);
    }
    failing.succeeded();
    let mut checked = Instant::now();
    loop {
        if matches!(
            stop.try_recv(),
            Err(crossbeam_channel::TryRecvError::Disconnected)
        ) {
            return Ok(());
        }
        wait(&mut client, notify)?;
        if checked.elapsed() >= CHECK_EVERY {
            client.batch_execute(sql::NOTIFY_LISTEN)?;
            checked = Instant::now();
        }
    }
}

/// Waits up to [`WAIT`] for notifications and passes each on.
fn wait(client: &mut Client, notify: &Notify) -> Result<()> {
    {
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(WAIT);
        while let Some(n) = waiting.next()? {
            notify(match n.payload() {
                "schedules" => Notice::Schedules,
                "resumed" => Notice::Resumed,
                _ => Notice::Work,
            });
        }
    }
    if client.is_closed() {
        return Err(super::errors::unavailable(
            "the notification connection closed",
        ));
    }
    Ok(())
}
