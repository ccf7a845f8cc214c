//! `migrate status | up [--to V] | down --to V`, each with `--dry-run`: the library's
//! migration runner on the file. `up` is the one command that may create a missing
//! database, because creating one is what it is asked for.

use clap::Subcommand;
use runloom::{Admin, Direction, MigrationState, MigrationStep};
use serde_json::{Value, json};

use crate::{
    CliError, CliResult, Ctx,
    output::{Table, emit, emit_json, key_values, time},
};

/// The `migrate` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum MigrateCommand {
    /// Every migration of this binary and whether the database has it.
    Status,
    /// Applies pending migrations, all or up to `--to`; creates a missing database file.
    Up {
        /// The version to stop at (default: the latest).
        #[arg(long, value_name = "V")]
        to: Option<u32>,
        /// Only print what would run; change nothing (and create no file).
        #[arg(long)]
        dry_run: bool,
    },
    /// Reverts migrations down to `--to` (0 drops every scheduler table and row).
    Down {
        /// The version to revert to.
        #[arg(long, value_name = "V")]
        to: u32,
        /// Only print what would run; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a `migrate` command.
pub(crate) fn run(ctx: &Ctx, cmd: MigrateCommand) -> CliResult<()> {
    match cmd {
        MigrateCommand::Status => status(ctx),
        MigrateCommand::Up { to, dry_run } => up(ctx, to, dry_run),
        MigrateCommand::Down { to, dry_run } => down(ctx, to, dry_run),
    }
}

fn status(ctx: &Ctx) -> CliResult<()> {
    let admin = ctx.open_as_is()?;
    let version = admin.schema_version()?;
    let latest = admin.latest_version();
    let migrations = admin.migrations()?;
    if ctx.json {
        let list: Vec<Value> = migrations
            .iter()
            .map(|m| {
                let (state, applied_at, duration_ms) = match &m.state {
                    MigrationState::Applied {
                        applied_at,
                        duration_ms,
                    } => ("applied", Some(time(*applied_at)), Some(*duration_ms)),
                    MigrationState::ChecksumMismatch { .. } => ("checksum_mismatch", None, None),
                    MigrationState::Pending => ("pending", None, None),
                    _ => ("unknown", None, None),
                };
                json!({
                    "version": m.version,
                    "name": m.name,
                    "checksum": m.checksum,
                    "state": state,
                    "applied_at": applied_at,
                    "duration_ms": duration_ms,
                })
            })
            .collect();
        return emit_json(&json!({
            "database": ctx.shown(),
            "version": version,
            "latest": latest,
            "migrations": list,
        }));
    }
    let mut table = Table::new(&["version", "name", "state", "applied at", "took"]);
    for m in &migrations {
        let (state, at, took) = match &m.state {
            MigrationState::Applied {
                applied_at,
                duration_ms,
            } => (
                "applied".to_owned(),
                time(*applied_at),
                format!("{duration_ms} ms"),
            ),
            MigrationState::ChecksumMismatch { recorded } => (
                format!(
                    "CHANGED (recorded {})",
                    recorded.chars().take(12).collect::<String>()
                ),
                "-".to_owned(),
                "-".to_owned(),
            ),
            MigrationState::Pending => ("pending".to_owned(), "-".to_owned(), "-".to_owned()),
            _ => ("unknown".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        table.row(vec![
            format!("{:04}", m.version),
            m.name.clone(),
            state,
            at,
            took,
        ]);
    }
    let mut out = key_values(&[
        ("database", ctx.shown()),
        ("version", format!("{version} of {latest}")),
    ]);
    out.push('\n');
    out.push_str(&table.render());
    if version < latest {
        out.push_str("\nrun `runloom migrate up` to apply the pending migrations\n");
    }
    emit(&out)
}

fn up(ctx: &Ctx, to: Option<u32>, dry_run: bool) -> CliResult<()> {
    if ctx.postgres_url().is_some() {
        // The server's operator creates the database; migrations go on one that exists.
        let admin = ctx.builder()?.create().map_err(|e| ctx.open_error(e))?;
        let latest = admin.latest_version();
        if let Some(t) = to.filter(|t| *t > latest) {
            return Err(CliError::new(format!(
                "invalid migration target {t}: this binary knows migrations up to {latest}"
            )));
        }
        let current = admin.schema_version()?;
        let steps = admin.migrate_up(to, dry_run)?;
        let reached = if dry_run {
            steps.last().map_or(current, |s| s.version)
        } else {
            admin.schema_version()?
        };
        return report(ctx, latest, &steps, dry_run, reached, false);
    }
    let latest = Admin::latest_schema_version();
    // Checked before anything is opened, so a bad target never leaves a new file behind.
    if let Some(t) = to.filter(|t| *t > latest) {
        return Err(CliError::new(format!(
            "invalid migration target {t}: this binary knows migrations up to {latest}"
        )));
    }
    let missing_or_empty = match std::fs::metadata(&ctx.db) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Ok(meta) => meta.is_file() && meta.len() == 0,
        Err(_) => false,
    };
    if dry_run && missing_or_empty {
        // The plan for a new file is the plan for an empty database: make it on one in
        // memory rather than create (or format) the file.
        let steps = Admin::plan_new_database(to)?;
        let reached = steps.last().map_or(0, |s| s.version);
        return report(ctx, latest, &steps, true, reached, false);
    }
    let admin = Admin::builder(&ctx.db)
        .create()
        .map_err(|e| ctx.open_error(e))?;
    let current = admin.schema_version()?;
    let steps = admin.migrate_up(to, dry_run)?;
    let reached = if dry_run {
        steps.last().map_or(current, |s| s.version)
    } else {
        admin.schema_version()?
    };
    report(
        ctx,
        latest,
        &steps,
        dry_run,
        reached,
        missing_or_empty && !dry_run,
    )
}

fn down(ctx: &Ctx, to: u32, dry_run: bool) -> CliResult<()> {
    let admin = ctx.open_as_is()?;
    let steps = admin.migrate_down(to, dry_run)?;
    let reached = if dry_run { to } else { admin.schema_version()? };
    report(ctx, admin.latest_version(), &steps, dry_run, reached, false)
}

/// Prints what ran (or would run) and the version the database is at afterwards (or
/// would be, in a dry run).
fn report(
    ctx: &Ctx,
    latest: u32,
    steps: &[MigrationStep],
    dry_run: bool,
    reached: u32,
    created: bool,
) -> CliResult<()> {
    if ctx.json {
        let list: Vec<Value> = steps
            .iter()
            .map(|s| {
                json!({
                    "version": s.version,
                    "name": s.name,
                    "direction": direction(s.direction),
                    "duration_ms": s.duration_ms,
                })
            })
            .collect();
        return emit_json(&json!({
            "database": ctx.shown(),
            "dry_run": dry_run,
            "created": created,
            "steps": list,
            "version": reached,
            "latest": latest,
        }));
    }
    let mut out = String::new();
    if created {
        out.push_str(&format!("created {}\n", ctx.shown()));
    }
    for s in steps {
        let verb = match (s.direction, dry_run) {
            (Direction::Up, true) => "would apply",
            (Direction::Up, false) => "applied",
            (Direction::Down, true) => "would revert",
            (Direction::Down, false) => "reverted",
        };
        if dry_run {
            out.push_str(&format!("{verb} {:04} {}\n", s.version, s.name));
        } else {
            out.push_str(&format!(
                "{verb} {:04} {} ({} ms)\n",
                s.version, s.name, s.duration_ms
            ));
        }
    }
    if steps.is_empty() {
        out.push_str(&format!(
            "nothing to do: the database is at version {reached} of {latest}\n"
        ));
    } else if dry_run {
        out.push_str(&format!(
            "dry run: nothing changed (the database would be at version {reached} of {latest})\n"
        ));
    } else {
        out.push_str(&format!(
            "the database is at version {reached} of {latest}\n"
        ));
    }
    emit(&out)
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}
