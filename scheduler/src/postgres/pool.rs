//! The connection pool: r2d2 over the synchronous `postgres` client, each connection
//! with its own prepared statements. The pool of r2d2_postgres hands out a bare
//! `Client`, which has nowhere to keep statements, and preparing each statement anew
//! costs a round trip per statement; ours is the same forty lines plus the cache.

use std::{
    collections::HashMap,
    ops::{Deref, DerefMut},
};

use postgres::{Client, Config, NoTls, Statement};

/// One connection of the pool and the statements prepared on it, by their SQL text
/// (the `&'static str` of `sql.rs`).
pub struct PgClient {
    pub(crate) client: Client,
    pub(crate) statements: HashMap<&'static str, Statement>,
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
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgClient;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgClient, postgres::Error> {
        Ok(PgClient {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgClient) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgClient) -> bool {
        conn.client.is_closed()
    }
}
