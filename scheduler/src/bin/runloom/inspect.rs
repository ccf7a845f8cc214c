//! Read-only views of the whole database: `tasks list`, `workers list`, `stats` and the
//! live `watch`.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use runloom::{
    Clock, RunStatus, SystemClock,
    store::{ReadTx, Schedule, StatusCounts, Store, Task, View, Worker},
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::{
    CliResult, Ctx,
    output::{
        Table, age, cell, duration, emit, emit_json, time, time_opt, view_table, worker_json,
    },
};

/// The stale-worker threshold the views use until a scheduler records its own.
const DEFAULT_STALE_AFTER_MS: i64 = 60_000;

/// Rows read from views that have one row per job type or minute: far more than any
/// real database holds, so nothing is cut.
const VIEW_ROWS: u32 = 100_000;

/// The `tasks` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TasksCommand {
    /// Task definitions, with the next fire time of each schedule.
    List {
        /// Also list deleted tasks.
        #[arg(long)]
        all: bool,
        /// How many upcoming fire times to compute for each schedule (at most 10000).
        #[arg(
            long,
            default_value_t = 1,
            value_name = "N",
            value_parser = clap::value_parser!(u64).range(0..=runloom::schedule::MAX_FIRE_TIMES as u64)
        )]
        next: u64,
    },
}

/// The `workers` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkersCommand {
    /// Scheduler instances with their heartbeat age and in-flight runs.
    List {
        /// Also list instances that stopped or were presumed dead.
        #[arg(long)]
        all: bool,
    },
}

/// Arguments of `watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Milliseconds between refreshes.
    #[arg(long, default_value_t = 1000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(10..))]
    interval_ms: u64,
    /// Stop after this many refreshes (default: until Ctrl-C).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

/// The schedule of a task for people.
fn schedule_text(s: &Schedule) -> String {
    match s {
        Schedule::Cron { expr, timezone } => {
            format!("cron {expr} ({})", timezone.as_deref().unwrap_or("UTC"))
        }
        Schedule::Interval(d) => format!("every {}", duration(*d)),
        Schedule::None => "-".to_owned(),
        _ => "?".to_owned(),
    }
}

/// The schedule of a task as JSON.
fn schedule_json(s: &Schedule) -> Value {
    match s {
        Schedule::Cron { expr, timezone } => {
            json!({ "kind": "cron", "cron": expr, "timezone": timezone })
        }
        Schedule::Interval(d) => {
            json!({ "kind": "interval", "interval_ms": crate::output::ms(*d) })
        }
        Schedule::None => json!({ "kind": "none" }),
        _ => json!({ "kind": "unknown" }),
    }
}

/// The next `n` fire times of a live, enabled schedule; none for the others. A
/// definition this binary cannot evaluate is reported in its row, not as a failure of
/// the whole listing.
fn fire_times(task: &Task, now: OffsetDateTime, n: usize) -> Result<Vec<OffsetDateTime>, String> {
    if !task.enabled || task.deleted_at.is_some() {
        return Ok(Vec::new());
    }
    runloom::schedule::next_fire_times(task, now, n).map_err(|e| e.to_string())
}

/// Runs a `tasks` command.
pub(crate) fn tasks(ctx: &Ctx, cmd: &TasksCommand) -> CliResult<()> {
    let TasksCommand::List { all, next } = cmd;
    // Bounded by the parser; the conversion cannot fail on any platform it runs on.
    let next = &usize::try_from(*next).unwrap_or(runloom::schedule::MAX_FIRE_TIMES);
    let store = ctx.open()?;
    let tasks = store.read(|tx| tx.list_tasks(*all))?;
    let now = SystemClock.now();
    if ctx.json {
        let list: Vec<Value> = tasks
            .iter()
            .map(|t| {
                let fires = fire_times(t, now, *next);
                json!({
                    "id": t.id.get(),
                    "name": t.name,
                    "job_type": t.job_type,
                    "payload": serde_json::from_str::<Value>(&t.payload)
                        .unwrap_or_else(|_| Value::String(t.payload.clone())),
                    "schedule": schedule_json(&t.schedule),
                    "misfire_policy": t.misfire_policy.as_str(),
                    "enabled": t.enabled,
                    "deleted": t.deleted_at.is_some(),
                    "priority": t.priority,
                    "max_attempts": t.max_attempts,
                    "next_run_at": t.next_run_at.map(time),
                    "last_run_at": t.last_run_at.map(time),
                    "next_fire_times": fires.as_ref().map(|f| f.iter().map(|t| time(*t)).collect::<Vec<_>>()).unwrap_or_default(),
                    "next_fire_error": fires.err(),
                    "version": t.version,
                })
            })
            .collect();
        return emit_json(&Value::Array(list));
    }
    if tasks.is_empty() {
        return emit("no tasks\n");
    }
    let mut table = Table::new(&[
        "id",
        "name",
        "job type",
        "schedule",
        "state",
        "next fire",
        "last run",
    ]);
    for t in &tasks {
        let state = if t.deleted_at.is_some() {
            "deleted"
        } else if t.enabled {
            "enabled"
        } else {
            "disabled"
        };
        let next_fire = match fire_times(t, now, *next) {
            Ok(f) if f.is_empty() => "-".to_owned(),
            Ok(f) => f.iter().map(|t| time(*t)).collect::<Vec<_>>().join(", "),
            Err(e) => format!("error: {e}"),
        };
        table.row(vec![
            t.id.to_string(),
            t.name.clone(),
            t.job_type.clone(),
            schedule_text(&t.schedule),
            state.to_owned(),
            next_fire,
            time_opt(t.last_run_at),
        ]);
    }
    emit(&table.render())
}

/// The heartbeat age after which the views (and maintenance) call an instance stale.
fn stale_after_ms(tx: &ReadTx<'_>) -> runloom::Result<i64> {
    Ok(tx
        .get_state("maintenance.stale_worker_after_ms")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_STALE_AFTER_MS))
}

/// Workers with the runs each holds a lease on.
fn workers_with_runs(tx: &ReadTx<'_>, all: bool) -> runloom::Result<Vec<(Worker, Vec<i64>)>> {
    tx.list_workers(all)?
        .into_iter()
        .map(|w| {
            let runs = tx
                .leases_of_worker(w.id)?
                .iter()
                .map(|l| l.run_id.get())
                .collect();
            Ok((w, runs))
        })
        .collect()
}

fn worker_rows_json(workers: &[(Worker, Vec<i64>)], now: OffsetDateTime, stale_ms: i64) -> Value {
    Value::Array(
        workers
            .iter()
            .map(|(w, runs)| {
                let mut v = worker_json(w, now);
                if let Value::Object(map) = &mut v {
                    map.insert("in_flight_runs".into(), json!(runs));
                    map.insert("stale".into(), json!(is_stale(w, now, stale_ms)));
                }
                v
            })
            .collect(),
    )
}

fn is_stale(w: &Worker, now: OffsetDateTime, stale_ms: i64) -> bool {
    w.status != runloom::store::WorkerStatus::Offline
        && crate::output::age_ms(now, w.last_heartbeat) > stale_ms
}

fn workers_table(workers: &[(Worker, Vec<i64>)], now: OffsetDateTime, stale_ms: i64) -> Table {
    let mut table = Table::new(&[
        "id",
        "name",
        "host",
        "pid",
        "status",
        "threads",
        "heartbeat",
        "in flight",
        "runs",
        "started at",
    ]);
    for (w, runs) in workers {
        let status = if is_stale(w, now, stale_ms) {
            format!("{} (stale)", w.status)
        } else {
            w.status.to_string()
        };
        let runs_text = if runs.is_empty() {
            "-".to_owned()
        } else {
            runs.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        table.row(vec![
            w.id.to_string(),
            w.name.clone(),
            w.host.clone(),
            w.pid.to_string(),
            status,
            w.threads.to_string(),
            age(now, w.last_heartbeat),
            w.leases_held.to_string(),
            runs_text,
            time(w.started_at),
        ]);
    }
    table
}

/// Runs a `workers` command.
pub(crate) fn workers(ctx: &Ctx, cmd: &WorkersCommand) -> CliResult<()> {
    let WorkersCommand::List { all } = cmd;
    let store = ctx.open()?;
    let (workers, stale_ms) =
        store.read(|tx| Ok((workers_with_runs(tx, *all)?, stale_after_ms(tx)?)))?;
    let now = SystemClock.now();
    if ctx.json {
        return emit_json(&worker_rows_json(&workers, now, stale_ms));
    }
    if workers.is_empty() {
        return emit(if *all {
            "no workers\n"
        } else {
            "no live workers (--all lists stopped ones)\n"
        });
    }
    emit(&workers_table(&workers, now, stale_ms).render())
}

fn counts_json(c: &StatusCounts) -> Value {
    let mut map = Map::new();
    for s in RunStatus::ALL {
        map.insert(s.as_str().to_owned(), json!(c.get(*s)));
    }
    map.insert("total".to_owned(), json!(c.total()));
    Value::Object(map)
}

/// Everything `stats` prints, read in one snapshot.
struct Stats {
    paused: bool,
    counts: StatusCounts,
    per_task: Vec<Map<String, Value>>,
    last_hour: Option<Map<String, Value>>,
    throughput: Vec<Map<String, Value>>,
}

fn read_stats(store: &Store) -> runloom::Result<Stats> {
    store.read(|tx| {
        Ok(Stats {
            paused: tx.is_paused()?,
            counts: tx.count_runs_by_status()?,
            per_task: tx.read_view(View::TaskExecutionStats, VIEW_ROWS)?,
            last_hour: tx
                .read_view(View::PerformanceMetrics, 1)?
                .into_iter()
                .next(),
            throughput: tx.read_view(View::ThroughputLastHour, VIEW_ROWS)?,
        })
    })
}

/// Columns of the `task_execution_stats` view, with their headers.
const PER_TASK_COLUMNS: [(&str, &str); 10] = [
    ("job_type", "job type"),
    ("task_name", "task"),
    ("runs", "runs"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("cancelled", "cancelled"),
    ("unfinished", "unfinished"),
    ("success_rate_pct", "success %"),
    ("avg_duration_ms", "avg ms"),
    ("max_duration_ms", "max ms"),
];

/// Columns of the `performance_metrics` view, with their headers.
const LAST_HOUR_COLUMNS: [(&str, &str); 8] = [
    ("finished_last_hour", "finished"),
    ("completed_last_hour", "completed"),
    ("failed_last_hour", "failed"),
    ("finished_per_s", "per s"),
    ("avg_duration_ms", "avg ms"),
    ("max_duration_ms", "max ms"),
    ("avg_start_delay_ms", "avg start delay ms"),
    ("max_start_delay_ms", "max start delay ms"),
];

/// Columns of the `throughput_last_hour` view, with their headers.
const THROUGHPUT_COLUMNS: [(&str, &str); 5] = [
    ("minute", "minute"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("cancelled", "cancelled"),
    ("avg_duration_ms", "avg ms"),
];

fn counts_table(c: &StatusCounts) -> Table {
    let mut t = Table::new(&["status", "runs"]);
    for s in RunStatus::ALL {
        t.row(vec![s.as_str().to_owned(), c.get(*s).to_string()]);
    }
    t.row(vec!["total".to_owned(), c.total().to_string()]);
    t
}

/// Runs `stats`.
pub(crate) fn stats(ctx: &Ctx) -> CliResult<()> {
    let store = ctx.open()?;
    let s = read_stats(&store)?;
    if ctx.json {
        return emit_json(&json!({
            "paused": s.paused,
            "counts": counts_json(&s.counts),
            "per_task": s.per_task,
            "last_hour": s.last_hour,
            "throughput_per_minute": s.throughput,
        }));
    }
    let mut out = format!(
        "claiming: {}\n\nruns by status:\n",
        if s.paused { "PAUSED" } else { "running" }
    );
    out.push_str(&counts_table(&s.counts).render());
    out.push_str("\nper job type and task (success rate = completed / (completed + failed)):\n");
    if s.per_task.is_empty() {
        out.push_str("no runs\n");
    } else {
        out.push_str(&view_table(&s.per_task, &PER_TASK_COLUMNS).render());
    }
    out.push_str("\nlast hour:\n");
    out.push_str(&view_table(s.last_hour.as_slice(), &LAST_HOUR_COLUMNS).render());
    out.push_str("\nthroughput per minute, last hour:\n");
    if s.throughput.is_empty() {
        out.push_str("no run finished in the last hour\n");
    } else {
        out.push_str(&view_table(&s.throughput, &THROUGHPUT_COLUMNS).render());
    }
    emit(&out)
}

/// One refresh of `watch`, read in one snapshot.
struct Frame {
    health: Map<String, Value>,
    counts: StatusCounts,
    last_hour: Option<Map<String, Value>>,
    recent: Vec<Map<String, Value>>,
    workers: Vec<(Worker, Vec<i64>)>,
    stale_ms: i64,
}

fn read_frame(store: &Store) -> runloom::Result<Frame> {
    store.read(|tx| {
        let mut throughput = tx.read_view(View::ThroughputLastHour, VIEW_ROWS)?;
        // The view is in time order: the latest minutes are at the end.
        let recent = throughput.split_off(throughput.len().saturating_sub(5));
        Ok(Frame {
            health: tx
                .read_view(View::SystemHealth, 1)?
                .into_iter()
                .next()
                .unwrap_or_default(),
            counts: tx.count_runs_by_status()?,
            last_hour: tx
                .read_view(View::PerformanceMetrics, 1)?
                .into_iter()
                .next(),
            recent,
            workers: workers_with_runs(tx, false)?,
            stale_ms: stale_after_ms(tx)?,
        })
    })
}

fn render_frame(ctx: &Ctx, f: &Frame, now: OffsetDateTime, interval: Duration) -> String {
    let h = |k: &str| f.health.get(k).map_or_else(|| "-".to_owned(), cell);
    let paused = matches!(f.health.get("paused"), Some(v) if v.as_i64() == Some(1));
    // Clear the screen and go home, so each refresh replaces the last.
    let mut out = String::from("\x1b[2J\x1b[H");
    out.push_str(&format!(
        "runloom watch: {}  {}  (every {}; Ctrl-C to stop)\n\n",
        ctx.db.display(),
        time(now),
        duration(interval)
    ));
    out.push_str(&format!(
        "health    claiming {}, live workers {}, stale workers {}, expired leases {}, \
         oldest due wait {}\n",
        if paused { "PAUSED" } else { "on" },
        h("live_workers"),
        h("stale_workers"),
        h("expired_leases"),
        match f.health.get("oldest_due_wait_s") {
            Some(v) if !v.is_null() => format!("{} s", cell(v)),
            _ => "-".to_owned(),
        },
    ));
    let counts: Vec<String> = RunStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s, f.counts.get(*s)))
        .collect();
    out.push_str(&format!("runs      {}\n", counts.join(", ")));
    let l = |k: &str| {
        f.last_hour
            .as_ref()
            .and_then(|m| m.get(k))
            .map_or_else(|| "-".to_owned(), cell)
    };
    out.push_str(&format!(
        "last hour finished {} (completed {}, failed {}), {}/s, avg {} ms, max {} ms\n",
        l("finished_last_hour"),
        l("completed_last_hour"),
        l("failed_last_hour"),
        l("finished_per_s"),
        l("avg_duration_ms"),
        l("max_duration_ms"),
    ));
    out.push_str("\nthroughput, latest minutes:\n");
    if f.recent.is_empty() {
        out.push_str("no run finished in the last hour\n");
    } else {
        out.push_str(&view_table(&f.recent, &THROUGHPUT_COLUMNS).render());
    }
    out.push_str("\nworkers:\n");
    if f.workers.is_empty() {
        out.push_str("no live workers\n");
    } else {
        out.push_str(&workers_table(&f.workers, now, f.stale_ms).render());
    }
    out
}

/// Runs `watch`: a frame every interval until Ctrl-C (the default SIGINT handling ends
/// the process; nothing is held that needs cleaning up) or `--count` frames.
pub(crate) fn watch(ctx: &Ctx, args: &WatchArgs) -> CliResult<()> {
    let store = ctx.open()?;
    let interval = Duration::from_millis(args.interval_ms);
    let mut shown = 0u64;
    loop {
        let started = Instant::now();
        let frame = read_frame(&store)?;
        let now = SystemClock.now();
        if ctx.json {
            // One JSON document per line, so a script can read frames as they come.
            let line = json!({
                "at": time(now),
                "health": frame.health,
                "counts": counts_json(&frame.counts),
                "last_hour": frame.last_hour,
                "throughput_latest_minutes": frame.recent,
                "workers": worker_rows_json(&frame.workers, now, frame.stale_ms),
            });
            emit(&format!("{line}\n"))?;
        } else {
            emit(&render_frame(ctx, &frame, now, interval))?;
        }
        shown += 1;
        if args.count.is_some_and(|n| shown >= n) {
            return Ok(());
        }
        std::thread::sleep(interval.saturating_sub(started.elapsed()));
    }
}
