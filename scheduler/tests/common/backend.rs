//! The backends the behavioural suite runs against. Each test of the suite takes a
//! `&dyn TestBackend` and works through the public API only (the scheduler, `Admin`),
//! so a new backend runs the same suite unchanged: it adds an implementation here and a
//! three-line test binary like `tests/behaviour_sqlite.rs`.

use runloom::{Admin, SchedulerBuilder, Worker, WorkerId};

use super::TestDb;

/// A fresh, empty database of one backend for one test.
pub trait TestBackend {
    /// Which backend, for messages.
    fn name(&self) -> &'static str;
    /// A scheduler builder on this database with the suite's quick settings (2 worker
    /// threads, 20 ms polls, 10 s leases, 200 ms heartbeats).
    fn builder(&self) -> SchedulerBuilder;
    /// An operator's handle on the database, as another process would open it.
    fn admin(&self) -> Admin;
}

/// The embedded default: a SQLite file in a temporary folder.
pub struct Sqlite(pub TestDb);

impl Sqlite {
    pub fn new() -> Self {
        Sqlite(TestDb::new())
    }
}

impl TestBackend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn builder(&self) -> SchedulerBuilder {
        super::builder(&self.0)
    }

    fn admin(&self) -> Admin {
        Admin::open(&self.0.path).unwrap()
    }
}

/// The worker with this id, as the operator API lists it.
pub fn worker(admin: &Admin, id: WorkerId) -> Worker {
    admin
        .workers(true)
        .unwrap()
        .into_iter()
        .find(|w| w.worker.id == id)
        .map(|w| w.worker)
        .unwrap_or_else(|| panic!("worker {id} is not listed"))
}
