//! Read-only views of the whole database: `tasks list`, `workers list`, `stats` and the
//! live `watch`.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use runloom::{
    Admin, Clock, Figures, Health, LastHour, MinuteThroughput, RunStatus, Schedule, StatusCounts,
    SystemClock, Task, WorkerInfo,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::{
    CliResult, Ctx,
    output::{
        Table, age, cell, duration, emit, emit_json, rows, time, time_opt, view_table, worker_json,
    },
};

/// The `tasks` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TasksCommand {
    /// Task definitions, with the next fire times of each schedule.
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
    /// Stops a task's schedule in every process: no occurrence until it is enabled
    /// again; occurrences not started are cancelled, a running one finishes.
    Disable {
        /// The task's name.
        name: String,
    },
    /// Starts a disabled schedule again, from now (the disabled time is not caught up).
    Enable {
        /// The task's name.
        name: String,
    },
    /// Enqueues one run of a task now, with its payload and options (its schedule is
    /// not moved).
    Trigger {
        /// The task's name.
        name: String,
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
fn fire_times(admin: &Admin, task: &Task, n: usize) -> Result<Vec<OffsetDateTime>, String> {
    admin.fire_times(task, n).map_err(|e| e.to_string())
}

/// Runs `tasks disable` (`enabled`: false) or `tasks enable`.
fn switch(ctx: &Ctx, name: &str, enabled: bool) -> CliResult<()> {
    let admin = ctx.open()?;
    let before = admin.task(name)?.map(|t| t.enabled);
    let task = if enabled {
        admin.enable_schedule(name)?
    } else {
        admin.disable_schedule(name)?
    };
    let changed = before != Some(task.enabled);
    if ctx.json {
        return emit_json(&json!({
            "name": task.name,
            "enabled": task.enabled,
            "changed": changed,
            "next_run_at": task.next_run_at.map(time),
        }));
    }
    let text = match (enabled, changed) {
        (false, true) => format!(
            "disabled {name}: no process creates its occurrences until `runloom tasks enable \
             {name}` (occurrences not started were cancelled)\n"
        ),
        (true, true) => format!(
            "enabled {name}: next occurrence {}\n",
            time_opt(task.next_run_at)
        ),
        (false, false) => format!("{name} is already disabled\n"),
        (true, false) => format!("{name} is already enabled\n"),
    };
    emit(&text)
}

/// Runs `tasks trigger`.
fn trigger(ctx: &Ctx, name: &str) -> CliResult<()> {
    let admin = ctx.open()?;
    let inserted = admin.trigger(name)?;
    if ctx.json {
        return emit_json(&json!({
            "task": name,
            "id": inserted.id.get(),
            "created": inserted.created,
            "status": inserted.status.as_str(),
        }));
    }
    let text = if inserted.created {
        format!(
            "enqueued run {} of {name} ({}); a running host picks it up within its poll \
             interval\n",
            inserted.id, inserted.status
        )
    } else {
        format!(
            "nothing enqueued: unfinished run {} ({}) already holds {name}'s unique key\n",
            inserted.id, inserted.status
        )
    };
    emit(&text)
}

/// Runs a `tasks` command.
pub(crate) fn tasks(ctx: &Ctx, cmd: &TasksCommand) -> CliResult<()> {
    let (all, next) = match cmd {
        TasksCommand::List { all, next } => (all, next),
        TasksCommand::Disable { name } => return switch(ctx, name, false),
        TasksCommand::Enable { name } => return switch(ctx, name, true),
        TasksCommand::Trigger { name } => return trigger(ctx, name),
    };
    // Bounded by the parser; the conversion cannot fail on any platform it runs on.
    let next = &usize::try_from(*next).unwrap_or(runloom::schedule::MAX_FIRE_TIMES);
    let admin = ctx.open()?;
    let tasks = admin.tasks(*all)?;
    if ctx.json {
        let list: Vec<Value> = tasks
            .iter()
            .map(|t| {
                let fires = fire_times(&admin, t, *next);
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
        let next_fire = match fire_times(&admin, t, *next) {
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

fn worker_rows_json(workers: &[WorkerInfo], now: OffsetDateTime) -> Value {
    Value::Array(
        workers
            .iter()
            .map(|info| {
                let mut v = worker_json(&info.worker, now);
                if let Value::Object(map) = &mut v {
                    let runs: Vec<i64> = info.runs.iter().map(|r| r.get()).collect();
                    map.insert("in_flight_runs".into(), json!(runs));
                    map.insert("stale".into(), json!(info.stale));
                }
                v
            })
            .collect(),
    )
}

fn workers_table(workers: &[WorkerInfo], now: OffsetDateTime) -> Table {
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
    for WorkerInfo {
        worker: w,
        runs,
        stale,
        ..
    } in workers
    {
        let status = if *stale {
            format!("{} (stale)", w.status)
        } else {
            w.status.to_string()
        };
        let runs_text = if runs.is_empty() {
            "-".to_owned()
        } else {
            runs.iter()
                .map(ToString::to_string)
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
    let workers = ctx.open()?.workers(*all)?;
    let now = SystemClock.now();
    if ctx.json {
        return emit_json(&worker_rows_json(&workers, now));
    }
    if workers.is_empty() {
        return emit(if *all {
            "no workers\n"
        } else {
            "no live workers (--all lists stopped ones)\n"
        });
    }
    emit(&workers_table(&workers, now).render())
}

fn counts_json(c: &StatusCounts) -> Value {
    let mut map = Map::new();
    for s in RunStatus::ALL {
        map.insert(s.as_str().to_owned(), json!(c.get(*s)));
    }
    map.insert("total".to_owned(), json!(c.total()));
    Value::Object(map)
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
    let s: Figures = ctx.open()?.figures()?;
    let per_task = rows(&s.per_task);
    let last_hour = rows(std::slice::from_ref(&s.last_hour));
    let throughput = rows(&s.throughput);
    if ctx.json {
        return emit_json(&json!({
            "paused": s.paused,
            "counts": counts_json(&s.counts),
            "per_task": per_task,
            "last_hour": last_hour.first(),
            "throughput_per_minute": throughput,
        }));
    }
    let mut out = format!(
        "claiming: {}\n\nruns by status:\n",
        if s.paused { "PAUSED" } else { "running" }
    );
    out.push_str(&counts_table(&s.counts).render());
    out.push_str("\nper job type and task (success rate = completed / (completed + failed)):\n");
    if per_task.is_empty() {
        out.push_str("no runs\n");
    } else {
        out.push_str(&view_table(&per_task, &PER_TASK_COLUMNS).render());
    }
    out.push_str("\nlast hour:\n");
    out.push_str(&view_table(&last_hour, &LAST_HOUR_COLUMNS).render());
    out.push_str("\nthroughput per minute, last hour:\n");
    if throughput.is_empty() {
        out.push_str("no run finished in the last hour\n");
    } else {
        out.push_str(&view_table(&throughput, &THROUGHPUT_COLUMNS).render());
    }
    emit(&out)
}

/// One refresh of `watch`.
struct Frame {
    health: Health,
    counts: StatusCounts,
    last_hour: LastHour,
    recent: Vec<MinuteThroughput>,
    workers: Vec<WorkerInfo>,
}

fn read_frame(admin: &Admin) -> runloom::Result<Frame> {
    let Figures {
        counts,
        last_hour,
        mut throughput,
        ..
    } = admin.figures()?;
    // In time order: the latest minutes are at the end.
    let recent = throughput.split_off(throughput.len().saturating_sub(5));
    Ok(Frame {
        health: admin.health()?,
        counts,
        last_hour,
        recent,
        workers: admin.workers(false)?,
    })
}

/// A figure as the tables print it (`-` for none).
fn num<T: serde::Serialize>(x: T) -> String {
    cell(&json!(x))
}

fn render_frame(ctx: &Ctx, f: &Frame, now: OffsetDateTime, interval: Duration) -> String {
    let h = &f.health;
    // Clear the screen and go home, so each refresh replaces the last.
    let mut out = String::from("\x1b[2J\x1b[H");
    out.push_str(&format!(
        "runloom watch: {}  {}  (every {}; Ctrl-C to stop)\n\n",
        ctx.shown(),
        time(now),
        duration(interval)
    ));
    out.push_str(&format!(
        "health    claiming {}, live workers {}, stale workers {}, expired leases {}, \
         oldest due wait {}\n",
        if h.paused { "PAUSED" } else { "on" },
        h.live_workers,
        h.stale_workers,
        h.expired_leases,
        h.oldest_due_wait_s
            .map_or_else(|| "-".to_owned(), |s| format!("{} s", num(s))),
    ));
    let counts: Vec<String> = RunStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s, f.counts.get(*s)))
        .collect();
    out.push_str(&format!("runs      {}\n", counts.join(", ")));
    let l = &f.last_hour;
    out.push_str(&format!(
        "last hour finished {} (completed {}, failed {}), {}/s, avg {} ms, max {} ms\n",
        l.finished_last_hour,
        l.completed_last_hour,
        l.failed_last_hour,
        num(l.finished_per_s),
        num(l.avg_duration_ms),
        num(l.max_duration_ms),
    ));
    out.push_str("\nthroughput, latest minutes:\n");
    if f.recent.is_empty() {
        out.push_str("no run finished in the last hour\n");
    } else {
        out.push_str(&view_table(&rows(&f.recent), &THROUGHPUT_COLUMNS).render());
    }
    out.push_str("\nworkers:\n");
    if f.workers.is_empty() {
        out.push_str("no live workers\n");
    } else {
        out.push_str(&workers_table(&f.workers, now).render());
    }
    out
}

/// Runs `watch`: a frame every interval until Ctrl-C (the default SIGINT handling ends
/// the process; nothing is held that needs cleaning up) or `--count` frames.
pub(crate) fn watch(ctx: &Ctx, args: &WatchArgs) -> CliResult<()> {
    let admin = ctx.open()?;
    let interval = Duration::from_millis(args.interval_ms);
    let mut shown = 0u64;
    loop {
        let started = Instant::now();
        let frame = read_frame(&admin)?;
        let now = SystemClock.now();
        if ctx.json {
            // One JSON document per line, so a script can read frames as they come.
            let line = json!({
                "at": time(now),
                "health": frame.health,
                "counts": counts_json(&frame.counts),
                "last_hour": frame.last_hour,
                "throughput_latest_minutes": frame.recent,
                "workers": worker_rows_json(&frame.workers, now),
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
