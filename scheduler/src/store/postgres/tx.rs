//! A transaction on one pooled connection: the statements of `sql.rs`, prepared once per
//! connection, run with positional parameters. Every operation of the storage interface
//! is a method of [`PgTx`] (one file per table); `&self` everywhere, as the interface
//! wants, so the transaction sits in a `RefCell` (a transaction is used by one thread at
//! a time, and no method holds the borrow across a call to another).

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    fmt,
};

use postgres::{Row, Statement, Transaction, types::ToSql};

use super::sql;
use crate::error::Result;

/// Positional parameters of one statement.
pub(crate) type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// A read or write transaction of the PostgreSQL backend.
pub struct PgTx<'a> {
    tx: RefCell<Transaction<'a>>,
    statements: RefCell<&'a mut HashMap<&'static str, Statement>>,
    /// Dependency edges this transaction may still settle (as on SQLite: the rest wait
    /// in the settle queue for the next transactions).
    pub(crate) settle_budget: Cell<usize>,
}

impl fmt::Debug for PgTx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTx").finish_non_exhaustive()
    }
}

impl<'a> PgTx<'a> {
    pub(crate) fn new(
        tx: Transaction<'a>,
        statements: &'a mut HashMap<&'static str, Statement>,
        settle_budget: usize,
    ) -> Self {
        PgTx {
            tx: RefCell::new(tx),
            statements: RefCell::new(statements),
            settle_budget: Cell::new(settle_budget),
        }
    }

    /// Runs `f` as one step of the host's own transaction `host` (a savepoint, so a
    /// refusal leaves the host's transaction as it was), for writes a host makes
    /// inside its transaction. The host's transaction keeps its own limits and
    /// isolation; statements are prepared for this call only (the host's connection
    /// has no cache of ours).
    pub(crate) fn in_host<T>(
        host: &mut Transaction<'_>,
        f: impl FnOnce(&PgTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut statements = HashMap::new();
        let tx = PgTx::new(host.transaction()?, &mut statements, 0);
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Lends the transaction itself to `f` (the host's writes of `ctx.transaction`).
    pub(crate) fn with_transaction(&self, f: &mut dyn FnMut(&mut Transaction<'_>)) {
        f(&mut self.tx.borrow_mut());
    }

    /// Commits what the transaction did.
    pub(crate) fn commit(self) -> Result<()> {
        Ok(self.tx.into_inner().commit()?)
    }

    /// The statement `sql`, prepared on this connection the first time it is used.
    fn prepared(&self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.borrow_mut().prepare(sql)?;
        self.statements.borrow_mut().insert(sql, s.clone());
        Ok(s)
    }

    /// Every row `sql` returns.
    pub(crate) fn query(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query(&s, params)?)
    }

    /// The row `sql` returns, if any (more than one is an error).
    pub(crate) fn query_opt(&self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query_opt(&s, params)?)
    }

    /// The one row `sql` returns.
    pub(crate) fn query_one(&self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query_one(&s, params)?)
    }

    /// Runs `sql` and returns the rows it changed.
    pub(crate) fn execute(&self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().execute(&s, params)?)
    }

    /// Runs `f` as one step of this transaction: if it fails, what it wrote is undone
    /// (a savepoint) and the transaction can go on without it. Nested steps shadow the
    /// same savepoint name, which PostgreSQL resolves to the innermost.
    pub(crate) fn step<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.tx.borrow_mut().batch_execute(sql::SAVEPOINT_BEGIN)?;
        match f(self) {
            Ok(v) => {
                self.tx.borrow_mut().batch_execute(sql::SAVEPOINT_RELEASE)?;
                Ok(v)
            }
            Err(e) => {
                self.tx
                    .borrow_mut()
                    .batch_execute(sql::SAVEPOINT_ROLLBACK)?;
                self.tx.borrow_mut().batch_execute(sql::SAVEPOINT_RELEASE)?;
                Err(e)
            }
        }
    }
}
