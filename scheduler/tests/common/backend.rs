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
    /// A scheduler builder on this database with the suite's quick timings (20 ms
    /// polls, 10 s leases, 200 ms heartbeats) and no thread count.
    fn base(&self) -> SchedulerBuilder;
    /// [`TestBackend::base`] with 2 worker threads on the default queue.
    fn builder(&self) -> SchedulerBuilder {
        self.base().worker_threads(2)
    }
    /// [`TestBackend::base`] running these queues with these threads.
    fn with_queues(&self, queues: &[(&str, usize)]) -> SchedulerBuilder {
        queues
            .iter()
            .fold(self.base(), |b, (name, threads)| b.queue(*name, *threads))
    }
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

    fn base(&self) -> SchedulerBuilder {
        super::base_builder(&self.0)
    }

    fn admin(&self) -> Admin {
        Admin::open(&self.0.path).unwrap()
    }
}

/// A database of its own on the test binary's throwaway PostgreSQL cluster
/// (`common/postgres.rs`), dropped with the value.
pub struct Postgres(pub super::postgres::PgDb);

impl Postgres {
    /// `None` when the PostgreSQL tests are skipped (`RUNLOOM_SKIP_POSTGRES`).
    pub fn new() -> Option<Self> {
        super::postgres::fresh_db().map(Postgres)
    }
}

impl TestBackend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn base(&self) -> SchedulerBuilder {
        runloom::Scheduler::builder()
            .postgres(&self.0.url)
            .poll_interval(std::time::Duration::from_millis(20))
            .lease_duration(std::time::Duration::from_secs(10))
            .heartbeat_interval(std::time::Duration::from_millis(200))
    }

    fn admin(&self) -> Admin {
        Admin::builder_postgres(&self.0.url).open().unwrap()
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
