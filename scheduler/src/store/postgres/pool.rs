//! The connection pool: r2d2 over the synchronous `postgres` client, each connection
//! with its own prepared statements. The pool of r2d2_postgres hands out a bare
//! `Client`, which has nowhere to keep statements, and preparing each statement anew
//! costs a round trip per statement; ours is the same forty lines plus the cache.

use std::{
    collections::HashMap,
    ops::{Deref, DerefMut},
    time::{Duration, Instant},
};

use postgres::{Client, Config, NoTls, Statement};

use super::sql;

/// Connects with `config`, both ends bounded by `network_timeout`: on a network that
/// went silent (a host cut off, a server gone) the client's TCP keepalives and user
/// timeout end a call that waits on a dead connection instead of letting it block for
/// the kernel's quarter of an hour, and the server's end the host's session, freeing
/// the row locks an open transaction held. Keepalive probes start after a quarter of
/// the timeout, one every eighth; the user timeout (what TCP waits for an answer)
/// decides.
pub(crate) fn connect(
    config: &Config,
    network_timeout: Duration,
) -> Result<Client, postgres::Error> {
    let t = network_timeout.max(Duration::from_secs(1));
    let idle = (t / 4).max(Duration::from_secs(1));
    let interval = (t / 8).max(Duration::from_secs(1));
    let mut config = config.clone();
    config
        .keepalives(true)
        .keepalives_idle(idle)
        .keepalives_interval(interval)
        .keepalives_retries(3)
        .tcp_user_timeout(t);
    let mut client = config.connect(NoTls)?;
    client.query_one(
        sql::SESSION_LIMITS,
        &[
            &format!("{}ms", t.as_millis()),
            &format!("{}s", idle.as_secs()),
            &format!("{}s", interval.as_secs()),
            &"3",
            &format!("{}ms", t.as_millis()),
        ],
    )?;
    Ok(client)
}

/// How recently a connection must have come back to the pool, healthy, to be handed out
/// again without a check. The check costs a round trip, a tenth of a busy dispatcher's
/// transaction; a connection that broke within this window (a server restart) fails its
/// next transaction instead, which its caller reports and retries with a backoff, and is
/// then dropped by the pool.
const FRESH: Duration = Duration::from_millis(500);

/// One connection of the pool and the statements prepared on it, by their SQL text
/// (the `&'static str` of `sql.rs`).
pub struct PgClient {
    pub(crate) client: Client,
    pub(crate) statements: HashMap<&'static str, Statement>,
    /// When the connection last came back to the pool unbroken.
    returned: Option<Instant>,
    /// The lock timeout of the write limits the session has, in milliseconds, if set
    /// (`PgStore::write_until`); the statement timeout is that plus the margin.
    pub(crate) write_limits: Option<u128>,
}

impl std::fmt::Debug for PgClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgClient")
            .field("statements", &self.statements.len())
            .finish_non_exhaustive()
    }
}

impl Deref for PgClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Opens connections for the pool and tells it which broke.
#[derive(Debug)]
pub struct Manager {
    pub(crate) config: Config,
    pub(crate) network_timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgClient;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgClient, postgres::Error> {
        Ok(PgClient {
            client: connect(&self.config, self.network_timeout)?,
            statements: HashMap::new(),
            returned: None,
            write_limits: None,
        })
    }

    fn is_valid(&self, conn: &mut PgClient) -> Result<(), postgres::Error> {
        if conn.returned.is_some_and(|at| at.elapsed() < FRESH) && !conn.client.is_closed() {
            return Ok(());
        }
        conn.client.simple_query("").map(|_| ())
    }

    /// Called by the pool as each connection comes back, so also where it learns when.
    fn has_broken(&self, conn: &mut PgClient) -> bool {
        let broken = conn.client.is_closed();
        conn.returned = (!broken).then(Instant::now);
        broken
    }
}
