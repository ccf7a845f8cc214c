//! Read-only views of the whole database: `tasks list`, `workers list`, `stats` and the
//! live `watch`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use clap::{Args, Subcommand};
use runloom::{
    Admin, Clock, Figures, Health, LastHour, MinuteThroughput, RunFilter, RunStatus, Schedule,
    StatusCounts, SystemClock, Task, WorkerInfo,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::{
    CliResult, Ctx,
    output::{
        Table, age, cell, clip, duration, emit, emit_json, rows, time, time_opt, view_table,
        worker_json,
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
        "leases at hb",
        "holding runs",
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

/// Columns of the `performance_metrics` view, with their headers ("per s" over the
/// seconds observed, at most the hour).
const LAST_HOUR_COLUMNS: [(&str, &str); 9] = [
    ("finished_last_hour", "finished"),
    ("completed_last_hour", "completed"),
    ("failed_last_hour", "failed"),
    ("finished_per_s", "per s"),
    ("observed_s", "over s"),
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

/// Seconds of the last hour the database was observed: from the first start of any
/// scheduler on it (at most an hour ago) to now, so a database an hour old or less is
/// not credited with an hour of activity.
fn observed_seconds(admin: &Admin, now: OffsetDateTime) -> runloom::Result<f64> {
    let first = admin
        .workers(true)?
        .iter()
        .map(|w| w.worker.started_at)
        .min();
    let since = first.map_or(0.0, |t| (now - t).as_seconds_f64());
    Ok(since.clamp(1.0, 3600.0))
}

/// Seconds as a whole number (they are clamped to 1 to 3600 before).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole_seconds(s: f64) -> u64 {
    s.round() as u64
}

/// Runs finished per second over the time observed.
fn per_second(finished: u64, observed_s: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let finished = finished as f64;
    (finished / observed_s * 1000.0).round() / 1000.0
}

/// Runs `stats`.
pub(crate) fn stats(ctx: &Ctx) -> CliResult<()> {
    let admin = ctx.open()?;
    let s: Figures = admin.figures()?;
    let observed = observed_seconds(&admin, SystemClock.now())?;
    let per_task = rows(&s.per_task);
    let mut last_hour = rows(std::slice::from_ref(&s.last_hour));
    for row in &mut last_hour {
        row.insert(
            "finished_per_s".into(),
            json!(per_second(s.last_hour.finished_last_hour, observed)),
        );
        row.insert("observed_s".into(), json!(whole_seconds(observed)));
    }
    let mut throughput = rows(&s.throughput);
    minutes_as_times(&mut throughput);
    if ctx.json {
        return emit_json(&json!({
            "paused": s.paused,
            "counts": counts_json(&s.counts),
            "per_task": per_task,
            "last_hour": last_hour.first(),
            "throughput_per_minute": throughput,
            "queues": s.queues.iter().map(crate::queues::queue_json).collect::<Vec<_>>(),
        }));
    }
    let mut out = format!(
        "claiming: {}\n\nruns by status:\n",
        if s.paused { "PAUSED" } else { "running" }
    );
    out.push_str(&counts_table(&s.counts).render());
    if !s.queues.is_empty() {
        out.push_str("\nqueues:\n");
        out.push_str(&crate::queues::queues_table(&s.queues, SystemClock.now()).render());
    }
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
    observed_s: f64,
    recent: Vec<MinuteThroughput>,
    workers: Vec<WorkerInfo>,
    running: Vec<runloom::Run>,
    failures: Vec<runloom::Run>,
}

/// Rows of the running and failed lists in a frame.
const FRAME_ROWS: u32 = 5;

fn read_frame(admin: &Admin, now: OffsetDateTime) -> runloom::Result<Frame> {
    let Figures {
        counts,
        last_hour,
        mut throughput,
        ..
    } = admin.figures()?;
    // In time order: the latest minutes are at the end.
    let recent = throughput.split_off(throughput.len().saturating_sub(3));
    let of = |status| admin.runs(&RunFilter::new().status(status).limit(FRAME_ROWS));
    Ok(Frame {
        health: admin.health()?,
        counts,
        last_hour,
        observed_s: observed_seconds(admin, now)?,
        recent,
        workers: admin.workers(false)?,
        running: of(RunStatus::Running)?,
        failures: of(RunStatus::Failed)?,
    })
}

/// A figure as the tables print it (`-` for none).
fn num<T: serde::Serialize>(x: T) -> String {
    cell(&json!(x))
}

/// The width every line of a frame fits in.
const WIDTH: usize = 80;

fn render_frame(ctx: &Ctx, f: &Frame, now: OffsetDateTime, interval: Duration) -> String {
    let h = &f.health;
    let mut lines: Vec<String> = Vec::new();
    lines.push(format!("runloom watch: {}", ctx.shown()));
    lines.push(format!(
        "{}, every {}; Ctrl-C stops",
        time(now),
        duration(interval)
    ));
    lines.push(String::new());
    lines.push(format!(
        "health    claiming {}, workers {} live {} stale, expired leases {}",
        if h.paused { "PAUSED" } else { "on" },
        h.live_workers,
        h.stale_workers,
        h.expired_leases,
    ));
    lines.push(format!(
        "          oldest due wait {}",
        h.oldest_due_wait_s
            .map_or_else(|| "-".to_owned(), |s| format!("{} s", num(s)))
    ));
    let counts: Vec<String> = RunStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s, f.counts.get(*s)))
        .collect();
    lines.push(format!("runs      {}", counts.join(", ")));
    let l = &f.last_hour;
    lines.push(format!(
        "last hour {} finished ({} completed, {} failed), {}/s over {:.0} s",
        l.finished_last_hour,
        l.completed_last_hour,
        l.failed_last_hour,
        num(per_second(l.finished_last_hour, f.observed_s)),
        f.observed_s,
    ));
    lines.push(format!(
        "          avg {} ms, max {} ms; latest minutes: {}",
        num(l.avg_duration_ms),
        num(l.max_duration_ms),
        if f.recent.is_empty() {
            "-".to_owned()
        } else {
            f.recent
                .iter()
                .map(|m| format!("{} {}+{}", minute_of(&m.minute), m.completed, m.failed))
                .collect::<Vec<_>>()
                .join("  ")
        },
    ));
    lines.push(String::new());
    lines.push(format!("running (latest {FRAME_ROWS}):"));
    if f.running.is_empty() {
        lines.push("  none".into());
    }
    for r in &f.running {
        lines.push(format!(
            "  {:<8} {:<20} attempt {}/{}  for {}  on worker {}",
            r.id,
            clip(&r.job_type, 20),
            r.attempt,
            r.max_attempts,
            r.started_at.map_or_else(|| "-".to_owned(), |t| age(now, t)),
            r.worker_id
                .map_or_else(|| "-".to_owned(), |w| w.to_string()),
        ));
    }
    lines.push(format!("latest failures (latest {FRAME_ROWS}):"));
    if f.failures.is_empty() {
        lines.push("  none".into());
    }
    for r in &f.failures {
        lines.push(format!(
            "  {:<8} {:<20} {}",
            r.id,
            clip(&r.job_type, 20),
            r.last_error.as_deref().unwrap_or("-"),
        ));
    }
    lines.push(String::new());
    lines.push("workers:".into());
    if f.workers.is_empty() {
        lines.push("  no live workers".into());
    }
    for w in &f.workers {
        let status = if w.stale {
            format!("{} (stale)", w.worker.status)
        } else {
            w.worker.status.to_string()
        };
        lines.push(format!(
            "{:<6} {:<24} {:<16} heartbeat {:<8} holding {}",
            w.worker.id,
            clip(&w.worker.name, 24),
            status,
            age(now, w.worker.last_heartbeat),
            w.runs.len(),
        ));
    }
    // Clear the screen and go home, so each refresh replaces the last; every line fits
    // an 80-column terminal.
    let mut out = String::from("\x1b[2J\x1b[H");
    for line in lines {
        out.push_str(&clip(&line, WIDTH));
        out.push('\n');
    }
    out
}

/// The `minute` of throughput rows in the one time format of the CLI's JSON (the
/// minute's start, `2026-01-05T14:10:00.000Z`, not the view's `2026-01-05T14:10Z`).
fn minutes_as_times(rows: &mut [Map<String, Value>]) {
    for row in rows {
        if let Some(Value::String(m)) = row.get_mut("minute") {
            if let Some(head) = m.strip_suffix('Z').filter(|h| h.len() == 16) {
                *m = format!("{head}:00.000Z");
            }
        }
    }
}

/// `14:10` of a minute label (`2026-01-05T14:10Z`).
fn minute_of(label: &str) -> &str {
    label
        .split_once('T')
        .map_or(label, |(_, t)| t.trim_end_matches('Z'))
}

/// The terminal's alternate screen while `watch` draws: entered at the start and left
/// on every way out (the last frame, an error, Ctrl-C), so the scrollback keeps what
/// was there before and no pile of frames.
struct Screen {
    on: bool,
}

impl Screen {
    fn enter(on: bool) -> CliResult<Screen> {
        if on {
            // Alternate screen, cursor hidden.
            emit("\x1b[?1049h\x1b[?25l")?;
        }
        Ok(Screen { on })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.on {
            let _ = emit("\x1b[?25h\x1b[?1049l");
        }
    }
}

/// Runs `watch`: a frame every interval until Ctrl-C or `--count` frames. On a
/// terminal it draws on the alternate screen and gives the screen back on the way out.
pub(crate) fn watch(ctx: &Ctx, args: &WatchArgs) -> CliResult<()> {
    let admin = ctx.open()?;
    let interval = Duration::from_millis(args.interval_ms);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Fails only if a handler is set already (none is, in this binary).
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let screen = Screen::enter(!ctx.json && std::io::IsTerminal::is_terminal(&std::io::stdout()))?;
    let mut shown = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let now = SystemClock.now();
        let frame = read_frame(&admin, now)?;
        if ctx.json {
            let mut recent = rows(&frame.recent);
            minutes_as_times(&mut recent);
            // One JSON document per line, so a script can read frames as they come.
            let line = json!({
                "at": time(now),
                "health": frame.health,
                "counts": counts_json(&frame.counts),
                "last_hour": frame.last_hour,
                "finished_per_s": per_second(frame.last_hour.finished_last_hour, frame.observed_s),
                "observed_s": whole_seconds(frame.observed_s),
                "throughput_latest_minutes": recent,
                "running": frame.running.iter().map(crate::output::run_json).collect::<Vec<_>>(),
                "latest_failures": frame.failures.iter().map(crate::output::run_json).collect::<Vec<_>>(),
                "workers": worker_rows_json(&frame.workers, now),
            });
            emit(&format!("{line}\n"))?;
        } else {
            emit(&render_frame(ctx, &frame, now, interval))?;
        }
        shown += 1;
        if args.count.is_some_and(|n| shown >= n) {
            break;
        }
        // In slices, so Ctrl-C ends the wait at once.
        let until = started + interval;
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
    }
    drop(screen);
    Ok(())
}
