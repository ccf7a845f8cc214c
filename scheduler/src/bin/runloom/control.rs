//! Commands that change what the processes sharing the database do: `pause`, `resume`,
//! `maintenance run` and `enqueue`.

use std::time::Duration;

use clap::{Args, Subcommand};
use runloom::{Clock, ExponentialBackoff, MaintenanceConfig, Service, SystemClock, store::NewRun};
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
    /// The payload as JSON, e.g. '{"invoice":"INV-1"}' (`null` for a unit job).
    #[arg(long, value_name = "JSON")]
    payload: String,
    /// When the run becomes due (RFC 3339); default now.
    #[arg(long, value_parser = parse_time, value_name = "TIME", conflicts_with = "delay")]
    at: Option<OffsetDateTime>,
    /// Due after this delay (500ms, 30s, 1h 30m, 2d) instead of now.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    delay: Option<Duration>,
    /// 0 to 100; higher runs first.
    #[arg(long, default_value_t = 0)]
    priority: u8,
    /// Attempts before the run fails for good.
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
    /// Enqueue even though no host has registered the job type.
    #[arg(long)]
    force: bool,
}

fn parse_service(s: &str) -> Result<Service, String> {
    Service::from_name(s).map_err(|e| e.to_string())
}

/// Runs `pause` (`paused`: true) or `resume`.
pub(crate) fn set_paused(ctx: &Ctx, paused: bool) -> CliResult<()> {
    let store = ctx.open()?;
    let now = SystemClock.now();
    let was = store.write(|tx| {
        let was = tx.is_paused()?;
        if was != paused {
            tx.set_paused(paused, now)?;
        }
        Ok(was)
    })?;
    if ctx.json {
        return emit_json(&json!({ "paused": paused, "changed": was != paused }));
    }
    let text = match (paused, was == paused) {
        (true, true) => "already paused\n".to_owned(),
        (false, true) => "not paused: nothing to resume\n".to_owned(),
        (true, false) => format!(
            "paused: no process sharing {} claims new runs until `runloom resume` \
             (running jobs finish)\n",
            ctx.db.display()
        ),
        (false, false) => "resumed: processes claim runs again\n".to_owned(),
    };
    emit(&text)
}

/// Runs a `maintenance` command.
pub(crate) fn maintenance(ctx: &Ctx, cmd: &MaintenanceCommand) -> CliResult<()> {
    let MaintenanceCommand::Run { only } = cmd;
    let store = ctx.open()?;
    // Workers are judged by the limits each recorded itself, whatever this config says;
    // runs taken back from dead workers back off by the default retry policy (a host's
    // own policy is code this tool does not have).
    let config = MaintenanceConfig::default();
    let retry = ExponentialBackoff::default();
    let mut reports = Vec::new();
    for service in Service::ALL {
        if only.is_none_or(|o| o == service) {
            reports.push(runloom::maintenance::run_pass(
                &store,
                &config,
                &SystemClock,
                &retry,
                service,
            )?);
        }
    }
    if ctx.json {
        let list = reports
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
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

/// Runs `enqueue`.
pub(crate) fn enqueue(ctx: &Ctx, args: &EnqueueArgs) -> CliResult<()> {
    // Checked before the database is touched: a bad payload must change nothing.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&args.payload) {
        return Err(CliError::new(format!("the payload is not valid JSON: {e}")));
    }
    let store = ctx.open()?;
    let now = SystemClock.now();
    let scheduled_at = match (args.at, args.delay) {
        (Some(at), _) => at,
        (None, Some(delay)) => now
            .checked_add(
                time::Duration::try_from(delay)
                    .map_err(|_| CliError::new("the delay is out of range"))?,
            )
            .ok_or_else(|| CliError::new("the delay is out of range"))?,
        (None, None) => now,
    };
    let mut run = NewRun::new(&args.job_type, &args.payload, scheduled_at);
    run.priority = args.priority;
    if let Some(n) = args.max_attempts {
        run.max_attempts = n;
    }
    run.timeout = args.timeout;
    if let Some(b) = args.backoff {
        run.backoff = b;
    }
    run.unique_key.clone_from(&args.unique_key);
    let inserted = store.write(|tx| {
        let registered = tx.registered_job_types()?;
        if !args.force && !registered.contains(&args.job_type) {
            let known = if registered.is_empty() {
                "no host has registered any job type yet".to_owned()
            } else {
                format!("registered: {}", registered.join(", "))
            };
            return Ok(Err(format!(
                "unknown job type {:?} ({known}); --force enqueues it anyway",
                args.job_type
            )));
        }
        Ok(Ok(tx.insert_run(&run, now)?))
    })?;
    let inserted = inserted.map_err(CliError::new)?;
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
