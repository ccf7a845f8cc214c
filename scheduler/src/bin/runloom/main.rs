//! `runloom`: the operator's command-line tool for a scheduler database.
//!
//! It works on any scheduler database file, including one that running host processes
//! use at the same time (SQLite in WAL mode lets it read while they write, and its few
//! writes are short transactions like theirs). It never creates a database by accident:
//! only `migrate up` may create a missing file, and `copy-to` the destination it names.
//!
//! Exit codes: 0 on success; 1 with `error: <reason>` on one line of stderr for any
//! error (nothing was changed); 2 for a usage error (from clap).
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod control;
mod inspect;
mod migrate;
mod output;
mod queues;
mod runs;

use std::{fmt, io, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use runloom::Admin;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The command line: global flags, then one command.
#[derive(Debug, Parser)]
#[command(
    name = "runloom",
    version,
    about = "Operate a scheduler database: migrations, runs, tasks, workers, figures, control.",
    long_about = None,
    propagate_version = true,
    after_help = "Exit codes: 0 success, 1 error (one line on stderr, nothing changed), 2 usage error."
)]
struct Cli {
    /// The database file [env: RUNLOOM_DB] [default: scheduler.db].
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
enum Command {
    /// Schema migrations: status, up, down.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Runs: list, show, retry, cancel.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Queues: list them with their runs, pause and resume one.
    #[command(subcommand)]
    Queues(queues::QueuesCommand),
    /// Task definitions (schedules): list, disable, enable, trigger.
    #[command(subcommand)]
    Tasks(inspect::TasksCommand),
    /// Scheduler instances (processes) sharing the database.
    #[command(subcommand)]
    Workers(inspect::WorkersCommand),
    /// The upstream and downstream runs of a run.
    Deps(runs::DepsArgs),
    /// Counts by status, per-task success rate and durations, throughput.
    Stats,
    /// A live view refreshed every second until Ctrl-C.
    Watch(inspect::WatchArgs),
    /// Stops claiming in every process sharing the database (running jobs finish).
    Pause,
    /// Resumes claiming in every process sharing the database.
    Resume,
    /// Maintenance passes (lease rescue, stale workers, tokens, retention).
    #[command(subcommand)]
    Maintenance(control::MaintenanceCommand),
    /// Enqueues a run of a job type that a host registers.
    Enqueue(control::EnqueueArgs),
    /// Copies the live tasks and unfinished runs (with their dependencies) into another
    /// database, usually PostgreSQL, then pauses this one. Refused while hosts are live.
    CopyTo(control::CopyToArgs),
}

/// What every command works with: where the database is and how to print.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// The database file.
    pub(crate) db: PathBuf,
    /// Print JSON instead of tables.
    pub(crate) json: bool,
}

impl Ctx {
    /// Opens an existing database at this binary's schema version, without creating or
    /// migrating anything: what every command but `migrate` works on.
    pub(crate) fn open(&self) -> CliResult<Admin> {
        self.builder()?.open().map_err(|e| self.open_error(e))
    }

    /// Opens an existing database at whatever version it is (the library still refuses
    /// a file that is not a database, a newer schema or a changed migration).
    pub(crate) fn open_as_is(&self) -> CliResult<Admin> {
        self.builder()?
            .open_any_version()
            .map_err(|e| self.open_error(e))
    }

    /// The PostgreSQL connection URL `--db` gave, if it is one.
    pub(crate) fn postgres_url(&self) -> Option<&str> {
        let db = self.db.to_str()?;
        ["postgres://", "postgresql://"]
            .iter()
            .any(|scheme| db.starts_with(scheme))
            .then_some(db)
    }

    /// How to open the database `--db` names: a file, or a PostgreSQL URL.
    pub(crate) fn builder(&self) -> CliResult<runloom::AdminBuilder> {
        match self.postgres_url() {
            None => Ok(Admin::builder(&self.db)),
            #[cfg(feature = "postgres")]
            Some(url) => Ok(Admin::builder_postgres(url)),
            #[cfg(not(feature = "postgres"))]
            Some(_) => Err(CliError::new(
                "this runloom was built without PostgreSQL support: build it with \
                 `--features cli,postgres`",
            )),
        }
    }

    /// The database for messages: a URL without its password.
    pub(crate) fn shown(&self) -> String {
        let db = self.db.display().to_string();
        let (Some(scheme), Some(at)) = (db.find("://"), db.rfind('@')) else {
            return db;
        };
        match db[..at].get(scheme + 3..).and_then(|user| user.find(':')) {
            Some(colon) if at > scheme => {
                format!("{}:***{}", &db[..scheme + 3 + colon], &db[at..])
            }
            _ => db,
        }
    }

    /// A refusal at open, naming the file (some of the library's messages do not) and
    /// saying what to do about it.
    pub(crate) fn open_error(&self, e: runloom::Error) -> CliError {
        let hint = match &e {
            runloom::Error::DatabaseMissing(_) => {
                " (nothing was created; pass --db PATH or set RUNLOOM_DB, or create one \
                 with `runloom migrate up`)"
            }
            runloom::Error::EmptyDatabase(_) => " (run `runloom migrate up` to create the schema)",
            _ => "",
        };
        let mut message = match e {
            runloom::Error::SchemaBehind { database, binary } => format!(
                "database schema is at version {database} but this binary needs {binary}: \
                 run `runloom migrate up` first"
            ),
            e => CliError::from(e).0,
        };
        let path = self.shown();
        if !message.contains(&path) {
            message = format!("{path}: {message}");
        }
        message.push_str(hint);
        CliError(message)
    }
}

/// A failure reported to the operator as one line.
#[derive(Debug)]
pub(crate) struct CliError(String);

impl CliError {
    /// An error with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contract is one line: messages that quote SQL or JSON may carry newlines.
        let one_line: Vec<&str> = self.0.split_whitespace().collect();
        f.write_str(&one_line.join(" "))
    }
}

impl From<runloom::Error> for CliError {
    fn from(e: runloom::Error) -> Self {
        let mut message = e.report().to_string();
        if e.is_busy() {
            message.push_str(" (another process held the write lock for more than 5 s; try again)");
        }
        CliError(message)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError(format!("cannot write the output: {e}"))
    }
}

/// The result of a command.
pub(crate) type CliResult<T> = Result<T, CliError>;

/// The database path: `--db`, else `RUNLOOM_DB` (when not empty), else the library's
/// default file in the working directory.
fn database_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("RUNLOOM_DB")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| PathBuf::from(runloom::DEFAULT_DATABASE))
}

/// Parses an RFC 3339 time (`2026-01-05T09:00:00Z`, `2026-01-05T10:00:00+01:00`).
pub(crate) fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-01-05T09:00:00Z ({e})"))
}

/// Parses a duration in the grammar `#[job(timeout = "...")]` uses (the `humantime`
/// crate's): `500ms`, `30s`, `1.5m`, `1h 30m`, `2d`; a whole number of milliseconds,
/// which is what the database stores.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration such as 500ms, 30s, 1h 30m or 2d ({e})"))?;
    if d.subsec_nanos() % 1_000_000 != 0 {
        return Err(format!(
            "{s:?} is not a whole number of milliseconds (the database stores milliseconds)"
        ));
    }
    Ok(d)
}

fn run(cli: Cli) -> CliResult<()> {
    let ctx = Ctx {
        db: database_path(cli.db),
        json: cli.json,
    };
    match cli.command {
        Command::Migrate(cmd) => migrate::run(&ctx, cmd),
        Command::Runs(cmd) => runs::run(&ctx, cmd),
        Command::Deps(args) => runs::deps(&ctx, &args),
        Command::Queues(cmd) => queues::run(&ctx, &cmd),
        Command::Tasks(cmd) => inspect::tasks(&ctx, &cmd),
        Command::Workers(cmd) => inspect::workers(&ctx, &cmd),
        Command::Stats => inspect::stats(&ctx),
        Command::Watch(args) => inspect::watch(&ctx, &args),
        Command::Pause => control::set_paused(&ctx, true),
        Command::Resume => control::set_paused(&ctx, false),
        Command::Maintenance(cmd) => control::maintenance(&ctx, &cmd),
        Command::Enqueue(args) => control::enqueue(&ctx, &args),
        Command::CopyTo(args) => control::copy_to(&ctx, args),
    }
}

fn main() -> ExitCode {
    // Usage errors (and --help, --version) are clap's: it prints them and exits with 2
    // (0 for help).
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_plain_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        // The derive's grammar: a number needs its unit.
        assert!(parse_duration("45").is_err_and(|e| e.contains("time unit needed")));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("500us").is_err_and(|e| e.contains("milliseconds")));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("1e400s").is_err());
    }

    #[test]
    fn times_are_rfc_3339_with_any_offset() {
        let utc = parse_time("2026-01-05T09:00:00Z").unwrap();
        assert_eq!(parse_time("2026-01-05T10:00:00+01:00"), Ok(utc));
        assert_eq!(output::time(utc), "2026-01-05T09:00:00.000Z");
        assert!(parse_time("2026-01-05").is_err());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn a_postgres_url_is_told_from_a_file_and_shown_without_its_password() {
        let ctx = |db: &str| Ctx {
            db: PathBuf::from(db),
            json: false,
        };
        assert_eq!(ctx("jobs.db").postgres_url(), None);
        assert_eq!(ctx("postgres.db").postgres_url(), None);
        let url = "postgres://jobs:s3cret@db.internal:5432/jobs";
        assert_eq!(ctx(url).postgres_url(), Some(url));
        assert!(ctx("postgresql://db/jobs").postgres_url().is_some());
        assert_eq!(
            ctx(url).shown(),
            "postgres://jobs:***@db.internal:5432/jobs"
        );
        assert_eq!(
            ctx("postgres://jobs@db/jobs").shown(),
            "postgres://jobs@db/jobs"
        );
        assert_eq!(ctx("/var/lib/jobs.db").shown(), "/var/lib/jobs.db");
    }

    #[test]
    fn errors_are_one_line() {
        let e = CliError::new("first line\nsecond   line\n");
        assert_eq!(e.to_string(), "first line second line");
    }

    #[test]
    fn the_database_path_defaults_to_the_library_default() {
        assert_eq!(
            database_path(Some(PathBuf::from("x.db"))),
            PathBuf::from("x.db")
        );
    }
}
