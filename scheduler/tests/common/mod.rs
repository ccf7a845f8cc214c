//! Shared set-up for the integration tests: real database files in temporary folders.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use runloom::{
    ExponentialBackoff,
    clock::HostInstant,
    store::{Store, StoreOptions},
};
use tempfile::TempDir;
use time::{OffsetDateTime, macros::datetime};

/// A fixed instant the tests measure time from.
pub const T0: OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

/// Milliseconds after `T0`.
pub fn at_ms(ms: i64) -> OffsetDateTime {
    T0 + time::Duration::milliseconds(ms)
}

/// The reading of the host's monotonic clock that store tests pair with `T0`: leases and
/// heartbeats are judged on that clock, and the store takes its readings as arguments,
/// so a test moves both clocks together (`at_ms(n)` with `host_ms(n)`). Only for stores
/// no running scheduler judges: a scheduler reads the real clock.
pub const H0: HostInstant = HostInstant::from_millis(1_000_000_000);

/// `H0` plus `ms` milliseconds.
pub fn host_ms(ms: i64) -> HostInstant {
    HostInstant::from_millis(H0.millis() + ms)
}

/// The monotonic reading that goes with a wall-clock time of a store test.
pub fn host_at(t: OffsetDateTime) -> HostInstant {
    let ms = (t - T0).whole_milliseconds();
    host_ms(i64::try_from(ms).unwrap())
}

/// A retry policy without delay: a rescued run is due again at once.
pub fn no_delay() -> ExponentialBackoff {
    ExponentialBackoff::new(std::time::Duration::ZERO)
}

/// A temporary folder with a database path in it (the file is not created).
pub struct TestDb {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        TestDb { dir, path }
    }

    pub fn options(&self) -> StoreOptions {
        StoreOptions::file(&self.path)
    }

    pub fn open(&self) -> Store {
        Store::open(self.options()).unwrap()
    }

    /// A plain rusqlite connection to the file, outside the store.
    pub fn raw(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        c
    }
}

/// The bytes of a file and whether a WAL file with frames sits next to it, to prove an
/// operation changed nothing.
pub fn snapshot(path: &Path) -> (Vec<u8>, bool) {
    let bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_has_frames = std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0);
    (bytes, wal_has_frames)
}

/// The user schema of a connection, sorted, for comparisons.
pub fn schema_of(conn: &rusqlite::Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The migration files of `sql/FOLDER/` in order, as `(NNNN_name, up, down)`: what a
/// backend's embedded list must be.
pub fn migration_files(folder: &str) -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sql")
        .join(folder);
    let mut ups: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    ups.into_iter()
        .map(|up| {
            let name = up
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(".up.sql", "");
            let down = up.with_file_name(format!("{name}.down.sql"));
            (
                name,
                std::fs::read_to_string(&up).unwrap(),
                std::fs::read_to_string(&down).unwrap(),
            )
        })
        .collect()
}

pub mod backend;
pub mod child;
pub mod jobs;
pub mod postgres;

/// Polls `cond` until it holds or `max` passes; returns whether it held. For states in
/// the database that no event announces.
pub fn wait_for(max: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + max;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Waits for the first event matching `pred`, up to `max`.
pub fn wait_event(
    rx: &crossbeam_channel::Receiver<runloom::Event>,
    max: std::time::Duration,
    mut pred: impl FnMut(&runloom::Event) -> bool,
) -> Option<runloom::Event> {
    let deadline = std::time::Instant::now() + max;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(e) if pred(&e) => return Some(e),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// A scheduler builder on a fresh file with quick settings for tests.
pub fn builder(db: &TestDb) -> runloom::SchedulerBuilder {
    base_builder(db).worker_threads(2)
}

/// [`builder`] without a thread count (to list queues instead).
pub fn base_builder(db: &TestDb) -> runloom::SchedulerBuilder {
    runloom::Scheduler::builder()
        .database(&db.path)
        .poll_interval(std::time::Duration::from_millis(20))
        .lease_duration(std::time::Duration::from_secs(10))
        .heartbeat_interval(std::time::Duration::from_millis(200))
}

/// A small deterministic generator, so a failing randomised test can be replayed from
/// its seed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
