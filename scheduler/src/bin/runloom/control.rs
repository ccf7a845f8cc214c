//! Commands that change what the processes sharing the database do: `pause`, `resume`,
//! `maintenance run`, `enqueue`, and `copy-to` (the move to another database).

use std::time::Duration;

use clap::{Args, Subcommand};
use runloom::{EnqueueOptions, Error, Service};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    CliError, CliResult, Ctx,
    output::{Table, emit, emit_json, time},
    parse_duration, parse_time,
};

/// The `maintenance` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum MaintenanceCommand {
    /// One pass now of every service (or of `--only` one), printing what it did.
    Run {
        /// Only this service: leases, workers, tokens or runs.
        #[arg(long, value_name = "NAME", value_parser = parse_service)]
        only: Option<Service>,
    },
}

/// Arguments of `enqueue`.
#[derive(Debug, Args)]
pub(crate) struct EnqueueArgs {
    /// The job type (one that a host sharing the database registers).
    job_type: String,
    /// The payload as JSON, e.g. '{"invoice":"INV-1"}' (`null` for a unit job);
    /// `@FILE` reads it from a file, `-` from standard input (for payloads too large
    /// for a command line).
    #[arg(long, value_name = "JSON|@FILE|-")]
    payload: String,
    /// When the run becomes due (RFC 3339); default now.
    #[arg(long, value_parser = parse_time, value_name = "TIME", conflicts_with = "delay")]
    at: Option<OffsetDateTime>,
    /// Due after this delay (500ms, 30s, 1h 30m, 2d) instead of now.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    delay: Option<Duration>,
    /// 0 to 100; higher runs first. Default: the job type's (as its hosts recorded it).
    #[arg(long)]
    priority: Option<u8>,
    /// Attempts before the run fails for good. Default: the job type's.
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// How long one attempt may run (500ms, 30s, 5m, ...).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    timeout: Option<Duration>,
    /// Base delay between attempts (500ms, 30s, 5m, ...).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    backoff: Option<Duration>,
    /// At most one unfinished run holds this key (an existing one is reported instead).
    #[arg(long, value_name = "KEY")]
    unique_key: Option<String>,
    /// The queue the run waits in. Default: the job type's.
    #[arg(long, value_name = "NAME")]
    queue: Option<String>,
    /// Enqueue even though no host has registered the job type.
    #[arg(long)]
    force: bool,
}

fn parse_service(s: &str) -> Result<Service, String> {
    Service::from_name(s).map_err(|e| e.to_string())
}

/// Runs `pause` (`paused`: true) or `resume`.
pub(crate) fn set_paused(ctx: &Ctx, paused: bool) -> CliResult<()> {
    let admin = ctx.open()?;
    let changed = if paused {
        admin.pause()?
    } else {
        admin.resume()?
    };
    if ctx.json {
        return emit_json(&json!({ "paused": paused, "changed": changed }));
    }
    let text = match (paused, !changed) {
        (true, true) => "already paused\n".to_owned(),
        (false, true) => "not paused: nothing to resume\n".to_owned(),
        (true, false) => format!(
            "paused: no process sharing {} claims new runs until `runloom resume` \
             (running jobs finish)\n",
            ctx.shown()
        ),
        (false, false) => "resumed: processes claim runs again\n".to_owned(),
    };
    emit(&text)
}

/// Arguments of `copy-to`.
#[derive(Debug, Args)]
pub(crate) struct CopyToArgs {
    /// The database to copy into: a PostgreSQL URL (`postgres://user@host/db`) or a file.
    /// Its schema is created or brought up to date first; the database itself must
    /// exist on a PostgreSQL server.
    #[arg(value_name = "DEST")]
    dest: std::path::PathBuf,
}

/// Runs `copy-to`: everything still to do moves to `DEST`, and this database is paused.
pub(crate) fn copy_to(ctx: &Ctx, args: CopyToArgs) -> CliResult<()> {
    let shown = args.dest.display().to_string();
    if ["host=", "dbname=", "user="]
        .iter()
        .any(|k| shown.contains(k))
    {
        return Err(CliError::new(format!(
            "{shown:?} looks like a PostgreSQL connection string: give it as a URL \
             (postgres://user@host:port/dbname), or it would be taken for a file name"
        )));
    }
    let source = ctx.open()?;
    let dest = Ctx {
        db: args.dest,
        json: ctx.json,
    };
    let target = dest.builder()?.create().map_err(|e| dest.open_error(e))?;
    target.migrate_up(None, false)?;
    let report = source.copy_into(&target)?;
    if ctx.json {
        return emit_json(&json!(report));
    }
    emit(&format!(
        "copied {} task(s), {} pending and {} blocked run(s), {} dependency edge(s) and {} \
         job type(s) from {} into {}; {} is paused now (start the hosts on {})\n",
        report.tasks,
        report.pending,
        report.blocked,
        report.dependencies,
        report.job_types,
        ctx.shown(),
        dest.shown(),
        ctx.shown(),
        dest.shown(),
    ))
}

/// Runs a `maintenance` command.
pub(crate) fn maintenance(ctx: &Ctx, cmd: &MaintenanceCommand) -> CliResult<()> {
    let MaintenanceCommand::Run { only } = cmd;
    // Workers are judged by the limits each recorded itself; runs taken back from dead
    // workers back off by the default retry policy (a host's own policy is code this
    // tool does not have).
    let reports = ctx.open()?.run_maintenance(*only)?.passes;
    if ctx.json {
        let list = reports
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                // The CLI's one time format, whatever the library's serde gives.
                if let Value::Object(map) = &mut v {
                    map.insert("started_at".into(), Value::String(time(r.started_at)));
                }
                v
            })
            .collect();
        return emit_json(&Value::Array(list));
    }
    let mut table = Table::new(&["service", "did", "batches", "took"]);
    for r in &reports {
        let did: Vec<String> = r
            .counts
            .named()
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        table.row(vec![
            r.service.name().to_owned(),
            if did.is_empty() {
                "-".to_owned()
            } else {
                did.join(", ")
            },
            r.batches.to_string(),
            format!("{} ms", r.duration_ms),
        ]);
    }
    emit(&table.render())
}

/// The payload `--payload` names: the text itself, `@FILE`'s content, or standard input
/// for `-`.
fn read_payload(arg: &str) -> CliResult<String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            CliError::new(format!("cannot read the payload from standard input: {e}"))
        })?;
        return Ok(text);
    }
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::new(format!("cannot read the payload from {path}: {e}"))),
        None => Ok(arg.to_owned()),
    }
}

/// Runs `enqueue`.
pub(crate) fn enqueue(ctx: &Ctx, args: &EnqueueArgs) -> CliResult<()> {
    let payload = read_payload(&args.payload)?;
    // Checked before the database is touched: a bad payload must change nothing.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&payload) {
        return Err(CliError::new(format!("the payload is not valid JSON: {e}")));
    }
    let admin = ctx.open()?;
    let mut opts = EnqueueOptions::new();
    if let Some(p) = args.priority {
        opts = opts.priority(p);
    }
    if let Some(at) = args.at {
        opts = opts.at(at);
    }
    if let Some(delay) = args.delay {
        opts = opts.delay(delay);
    }
    if let Some(n) = args.max_attempts {
        opts = opts.max_attempts(n);
    }
    if let Some(t) = args.timeout {
        opts = opts.timeout(t);
    }
    if let Some(b) = args.backoff {
        opts = opts.backoff(b);
    }
    if let Some(key) = &args.unique_key {
        opts = opts.unique_key(key);
    }
    if let Some(queue) = &args.queue {
        opts = opts.queue(queue);
    }
    let inserted = if args.force {
        admin.enqueue_json_any_type(&args.job_type, &payload, &opts)
    } else {
        admin.enqueue_json(&args.job_type, &payload, &opts)
    };
    let inserted = match inserted {
        Err(Error::UnknownJobType(_)) => {
            let registered = admin.job_types()?;
            let known = if registered.is_empty() {
                "no host has registered any job type yet".to_owned()
            } else {
                format!("registered: {}", registered.join(", "))
            };
            return Err(CliError::new(format!(
                "unknown job type {:?} ({known}); --force enqueues it anyway",
                args.job_type
            )));
        }
        other => other?,
    };
    let scheduled_at = admin.run(inserted.id)?.scheduled_at;
    if ctx.json {
        return emit_json(&json!({
            "id": inserted.id.get(),
            "created": inserted.created,
            "status": inserted.status.as_str(),
            "job_type": args.job_type,
            "scheduled_at": time(scheduled_at),
        }));
    }
    let text = if inserted.created {
        format!(
            "enqueued run {} ({}, {}, due {}); a running host picks it up within its poll \
             interval\n",
            inserted.id,
            args.job_type,
            inserted.status,
            time(scheduled_at)
        )
    } else {
        format!(
            "nothing enqueued: unfinished run {} ({}) already holds that unique key\n",
            inserted.id, inserted.status
        )
    };
    emit(&text)
}
