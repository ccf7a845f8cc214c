//! Opening the database file and configuring every connection (WAL, foreign keys, busy
//! timeout, synchronous, statement cache), and the checks that refuse a file before
//! SQLite is allowed to write to it.

use std::{
    fs,
    io::{self, Read},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, config::DbConfig};

use crate::error::{Error, Result};

/// The oldest SQLite accepted: WAL mode before 3.51.3 can corrupt a database written by
/// several connections at once.
pub(crate) const MIN_SQLITE_VERSION: i32 = 3_051_003;
pub(crate) const MIN_SQLITE_VERSION_TEXT: &str = "3.51.3";

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A file on disk (created, with its parent folders, when missing).
    File(PathBuf),
    /// A private in-memory database, shared by the connections of one `Store` and gone
    /// when the store is dropped. For tests where a file adds nothing.
    Memory(String),
}

/// How hard SQLite works to make a commit durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Commits survive a crash or `kill -9` of the process; the last commits before an
    /// OS crash or power loss may be lost. The default.
    #[default]
    Normal,
    /// Commits also survive power loss on storage that honours `fsync`. Slower.
    Full,
}

impl Synchronous {
    fn pragma_value(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Refuses SQLite libraries older than [`MIN_SQLITE_VERSION`].
pub(crate) fn check_sqlite_version(number: i32, text: &str) -> Result<()> {
    if number < MIN_SQLITE_VERSION {
        return Err(Error::SqliteTooOld {
            found: text.to_owned(),
            required: MIN_SQLITE_VERSION_TEXT,
        });
    }
    Ok(())
}

/// A name for a new private in-memory database.
pub(crate) fn unique_memory_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "runloom-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The string SQLite opens and the flags to open it with.
pub(crate) fn target(location: &Location) -> (String, OpenFlags) {
    let base = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match location {
        Location::File(path) => (path.to_string_lossy().into_owned(), base),
        // The memdb VFS shares one in-memory database between every connection that
        // names it (with a leading slash), with ordinary locking, so the pool works.
        Location::Memory(name) => (
            format!("file:/{name}?vfs=memdb"),
            base | OpenFlags::SQLITE_OPEN_URI,
        ),
    }
}

/// Prepares the file: refuses what is not a SQLite database before SQLite touches it,
/// and creates a missing file (and its folders) readable only by its owner.
pub(crate) fn prepare_file(path: &Path, create_if_missing: bool) -> Result<()> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    match fs::metadata(path) {
        // A folder, a device (/dev/null), a pipe: not a file SQLite can keep a
        // database and its journals beside.
        Ok(meta) if !meta.is_file() => Err(Error::NotADatabase(path.to_owned())),
        Ok(meta) => check_header(path, meta.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !create_if_missing {
                return Err(Error::DatabaseMissing(path.to_owned()));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dirs(parent).map_err(|source| Error::Io {
                    path: parent.to_owned(),
                    source,
                })?;
            }
            create_private(path).map_err(io_err)
        }
        Err(e) => Err(io_err(e)),
    }
}

/// Creates the missing folders of `dir`, readable only by their owner: they hold the
/// database and its journals.
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // SQLite gives the -wal and -shm files the permissions of the database file, so
    // creating it 0600 keeps all three private.
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        // Another process created it between our check and now: theirs is as good.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<()> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

const HEADER_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;

/// Reads the 100-byte header: the magic string, and the page count against the file size
/// (a truncated copy is caught here instead of at the first unlucky read).
fn check_header(path: &Path, len: u64) -> Result<()> {
    if len == 0 {
        // SQLite treats an empty file as a new, empty database.
        return Ok(());
    }
    let mut header = [0u8; HEADER_LEN];
    let read = fs::File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut header))
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
    if read < HEADER_LEN || &header[..16] != HEADER_MAGIC {
        return Err(Error::NotADatabase(path.to_owned()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let change_counter = u32::from_be_bytes([header[24], header[25], header[26], header[27]]);
    let pages = u32::from_be_bytes([header[28], header[29], header[30], header[31]]);
    let valid_for = u32::from_be_bytes([header[92], header[93], header[94], header[95]]);
    // The page count is only meaningful when the header says so, and a WAL file with
    // frames may legitimately hold pages the main file does not have yet.
    if valid_for == change_counter && pages > 0 && !has_wal_frames(path) {
        let expected = u64::from(pages) * page_size;
        if len < expected {
            return Err(Error::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "file is truncated: its header counts {pages} pages of {page_size} bytes \
                     ({expected} bytes) but the file has {len} bytes"
                ),
            });
        }
    }
    Ok(())
}

fn read_up_to(f: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn has_wal_frames(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 32)
}

/// Opens the connection that will write, then proves the file is a readable database that
/// can be written, without writing anything.
pub(crate) fn open_checked(location: &Location, busy_timeout: Duration) -> Result<Connection> {
    let (name, flags) = target(location);
    let path = display_path(location);
    let conn = Connection::open_with_flags(&name, flags).map_err(|e| classify(&path, e))?;
    conn.busy_timeout(busy_timeout)?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(Error::ReadOnly(path));
    }
    // The first read of the schema is where SQLite notices a file that is not a database
    // or whose first pages are damaged.
    conn.query_row(super::sql::SCHEMA_PROBE, [], |r| r.get::<_, i64>(0))
        .map_err(|e| classify(&path, e))?;
    Ok(conn)
}

/// Maps SQLite's open/read errors about the file itself to the variants that name it.
fn classify(path: &Path, e: rusqlite::Error) -> Error {
    classify_database(path, super::errors::database_error(e))
}

/// What a database error says about the file at `path` (not a database, damaged,
/// read-only, cannot be opened), or the error as it was.
fn classify_database(path: &Path, e: crate::error::DatabaseError) -> Error {
    match super::errors::sqlite_code(&e) {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotADatabase(path.to_owned()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path: path.to_owned(),
            detail: e.cause().to_string(),
        },
        Some(rusqlite::ErrorCode::ReadOnly) => Error::ReadOnly(path.to_owned()),
        Some(rusqlite::ErrorCode::CannotOpen) => Error::Io {
            path: path.to_owned(),
            source: io::Error::other(e.cause().to_string()),
        },
        _ => Error::Database(e),
    }
}

pub(crate) fn display_path(location: &Location) -> PathBuf {
    match location {
        Location::File(p) => p.clone(),
        Location::Memory(name) => PathBuf::from(format!(":memory:{name}")),
    }
}

/// Settings every connection gets, writer and readers alike.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionSettings {
    pub(crate) busy_timeout: Duration,
    pub(crate) synchronous: Synchronous,
    pub(crate) statement_cache: usize,
}

/// Applies the per-connection settings. `reader` connections are also made query-only,
/// so a read path can never write by mistake.
pub(crate) fn configure(
    conn: &Connection,
    settings: ConnectionSettings,
    reader: bool,
) -> rusqlite::Result<()> {
    conn.busy_timeout(settings.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(settings.statement_cache);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", settings.synchronous.pragma_value())?;
    // Views and triggers may only call SQLite's innocuous functions.
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    // Plans must not depend on bound values: otherwise SQLite re-prepares a cached
    // statement each time a parameter it peeked at changes (the claim's `LIMIT :limit`
    // changes every cycle), and re-parsing cost a quarter of the dispatcher's time.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if reader {
        conn.pragma_update(None, "query_only", "ON")?;
    }
    Ok(())
}

/// SQLite's description of each problem `PRAGMA quick_check` finds (empty: sound).
pub(crate) fn quick_check(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(super::sql::SCHEMA_QUICK_CHECK)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|m| m != "ok")
        .collect())
}

/// Refuses a file in which `quick_check` finds damage.
pub(crate) fn verify_integrity(conn: &Connection, location: &Location) -> Result<()> {
    let path = display_path(location);
    let problems = quick_check(conn).map_err(|e| match e {
        Error::Database(db) => classify_database(&path, db),
        other => other,
    })?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Corrupt {
        path,
        detail: problems.join("; "),
    })
}

/// Caps the file at `bytes` through `max_page_count` (rounded up to whole pages).
pub(crate) fn limit_size(conn: &Connection, bytes: u64) -> Result<()> {
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let page_size = u64::try_from(page_size.max(512)).unwrap_or(4096);
    let pages = bytes.div_ceil(page_size).max(1);
    conn.pragma_update(
        None,
        "max_page_count",
        i64::try_from(pages).unwrap_or(i64::MAX),
    )?;
    Ok(())
}

/// Switches a file database to WAL (persistent in the file; a no-op when already set).
///
/// The switch needs the file to itself, and SQLite reports `SQLITE_BUSY` at once,
/// without its busy handler, when other connections opened the new file at the same
/// moment (several processes starting together). It is retried with a short backoff
/// until `busy_timeout` has passed.
pub(crate) fn enable_wal(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + busy_timeout;
    let mut pause = Duration::from_millis(1);
    let mode: String = loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)) {
            Ok(mode) => break mode,
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!(
            "database could not switch to WAL (journal_mode is {mode}); readers will wait \
             for writers"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_sqlite_older_than_3_51_3() {
        assert!(matches!(
            check_sqlite_version(3_051_002, "3.51.2"),
            Err(Error::SqliteTooOld { .. })
        ));
        assert!(check_sqlite_version(3_051_003, "3.51.3").is_ok());
        assert!(check_sqlite_version(rusqlite::version_number(), rusqlite::version()).is_ok());
    }
}
