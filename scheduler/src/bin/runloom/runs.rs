//! `runs list | show | retry | cancel` and `deps`: reading runs and acting on one.

use clap::{Args, Subcommand};
use runloom::{
    Admin, AttemptErrorKind, CancelOutcome, Clock, Dependency, Run, RunDetails, RunFilter, RunId,
    RunStatus, SystemClock, TaskId,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    CliError, CliResult, Ctx,
    output::{
        Table, age, clip, duration, edge_json, emit, emit_json, key_values, lease_json, run_json,
        time, time_json, time_opt, worker_json, yes_no,
    },
    parse_time,
};

/// The `runs` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// Runs, newest first, with optional filters.
    List(ListArgs),
    /// One run: every attempt with its error, the lease, the worker, dependencies.
    Show {
        /// The run's id.
        id: i64,
    },
    /// Puts a failed or cancelled run back to pending, due now (its history is kept);
    /// with filters instead of an id, every failed or cancelled run they match (the
    /// upstream runs of a workflow first), reporting each refusal.
    Retry(RetryArgs),
    /// Cancels a blocked or pending run (and its dependents); asks a running one to stop.
    Cancel {
        /// The run's id.
        id: i64,
        /// Recorded as the cancellation reason.
        #[arg(long, default_value = "cancelled by operator")]
        reason: String,
    },
}

/// The filters `runs list` and `runs retry` share.
#[derive(Debug, Args)]
pub(crate) struct Filters {
    /// Only runs in this status (blocked, pending, running, completed, failed, cancelled;
    /// `runs retry` takes failed or cancelled, and both by default).
    #[arg(long, value_parser = parse_status)]
    status: Option<RunStatus>,
    /// Only runs of this job type.
    #[arg(long = "type", alias = "job-type", value_name = "JOB_TYPE")]
    job_type: Option<String>,
    /// Only runs of this task (schedule), by id or name.
    #[arg(long, value_name = "ID|NAME")]
    task: Option<String>,
    /// Only runs in this queue.
    #[arg(long, value_name = "NAME")]
    queue: Option<String>,
    /// Only runs created at or after this time (RFC 3339, e.g. 2026-01-05T09:00:00Z).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    since: Option<OffsetDateTime>,
    /// Only runs created before this time (RFC 3339).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    until: Option<OffsetDateTime>,
}

impl Filters {
    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.job_type.is_none()
            && self.task.is_none()
            && self.queue.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The library's filter, with a task named by name resolved to its id.
    fn to_filter(&self, admin: &Admin, limit: u32) -> CliResult<RunFilter> {
        let mut filter = RunFilter::new().limit(limit);
        filter.status = self.status;
        filter.job_type.clone_from(&self.job_type);
        filter.queue.clone_from(&self.queue);
        filter.created_after = self.since;
        filter.created_before = self.until;
        if let Some(task) = &self.task {
            match resolve_task(admin, task)? {
                Some(id) => filter.task_id = Some(id),
                None => return Err(CliError::new(format!("task {task:?} not found"))),
            }
        }
        Ok(filter)
    }
}

/// Arguments of `runs list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    filters: Filters,
    /// At most this many runs.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

/// What `runs retry` retries: one run, or the runs the filters match.
#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// The run's id (or give filters instead).
    #[arg(conflicts_with_all = ["status", "job_type", "task", "since", "until"])]
    id: Option<i64>,
    #[command(flatten)]
    filters: Filters,
    /// At most this many runs (the newest).
    #[arg(long, default_value_t = 1000)]
    limit: u32,
}

/// Arguments of `deps`.
#[derive(Debug, Args)]
pub(crate) struct DepsArgs {
    /// The run's id.
    id: i64,
    /// Also print every edge among the run's ancestors and descendants.
    #[arg(long)]
    graph: bool,
}

fn parse_status(s: &str) -> Result<RunStatus, String> {
    s.parse::<RunStatus>().map_err(|e| e.to_string())
}

/// Runs a `runs` command.
pub(crate) fn run(ctx: &Ctx, cmd: RunsCommand) -> CliResult<()> {
    match cmd {
        RunsCommand::List(args) => list(ctx, &args),
        RunsCommand::Show { id } => show(ctx, RunId::new(id)),
        RunsCommand::Retry(RetryArgs { id: Some(id), .. }) => retry(ctx, RunId::new(id)),
        RunsCommand::Retry(args) => retry_where(ctx, &args),
        RunsCommand::Cancel { id, reason } => cancel(ctx, RunId::new(id), &reason),
    }
}

fn list(ctx: &Ctx, args: &ListArgs) -> CliResult<()> {
    let admin = ctx.open()?;
    let filter = args.filters.to_filter(&admin, args.limit)?;
    let runs = admin.runs(&filter)?;
    if ctx.json {
        return emit_json(&Value::Array(runs.iter().map(run_json).collect()));
    }
    let mut table = Table::new(&[
        "id",
        "job type",
        "status",
        "attempt",
        "prio",
        "scheduled at",
        "finished at",
        "took",
        "last error",
    ]);
    for r in &runs {
        table.row(vec![
            r.id.to_string(),
            r.job_type.clone(),
            status_text(r),
            format!("{}/{}", r.attempt, r.max_attempts),
            r.priority.to_string(),
            time(r.scheduled_at),
            time_opt(r.finished_at),
            r.duration.map_or_else(|| "-".to_owned(), duration),
            r.last_error
                .as_deref()
                .map_or_else(|| "-".to_owned(), |e| clip(e, 40)),
        ]);
    }
    if table.is_empty() {
        return emit("no runs match\n");
    }
    emit(&table.render())
}

/// The status, with a note when a cancellation is pending on a running run.
fn status_text(r: &Run) -> String {
    if r.cancel_requested && r.status == RunStatus::Running {
        format!("{} (cancel requested)", r.status)
    } else {
        r.status.to_string()
    }
}

/// A task by id (digits) or by name, among live tasks for names.
fn resolve_task(admin: &Admin, task: &str) -> runloom::Result<Option<TaskId>> {
    if let Ok(id) = task.parse::<i64>() {
        return Ok(Some(TaskId::new(id)));
    }
    Ok(admin.task(task)?.map(|t| t.id))
}

/// One line of a run's attempt history.
struct AttemptRow {
    attempt: u32,
    at: Option<OffsetDateTime>,
    outcome: String,
    message: Option<String>,
}

/// Every recorded failed (or handed back) attempt, then the latest attempt when it has
/// no error of its own (running, completed, or cancelled while running).
fn attempt_rows(run: &Run) -> Vec<AttemptRow> {
    let mut rows: Vec<AttemptRow> = run
        .errors
        .iter()
        .map(|e| AttemptRow {
            attempt: e.attempt,
            at: Some(e.at),
            outcome: e.kind.as_str().to_owned(),
            message: Some(e.message.clone()),
        })
        .collect();
    // A released attempt is not counted: the same number runs again after it.
    let latest_has_error = run
        .errors
        .iter()
        .any(|e| e.attempt == run.attempt && e.kind != AttemptErrorKind::Released);
    if run.attempt > 0 && !latest_has_error {
        let row = match run.status {
            RunStatus::Running => Some((run.started_at, None)),
            RunStatus::Completed => Some((run.finished_at, None)),
            RunStatus::Cancelled | RunStatus::Failed => Some((
                run.finished_at,
                run.cancel_reason.clone().or(run.last_error.clone()),
            )),
            RunStatus::Blocked | RunStatus::Pending => None,
        };
        if let Some((at, message)) = row {
            rows.push(AttemptRow {
                attempt: run.attempt,
                at,
                outcome: run.status.as_str().to_owned(),
                message,
            });
        }
    }
    rows
}

fn show(ctx: &Ctx, id: RunId) -> CliResult<()> {
    let d: RunDetails = ctx.open()?.run_details(id)?;
    let now = SystemClock.now();
    let run = &d.run;
    let attempts = attempt_rows(run);
    if ctx.json {
        let mut obj = run_json(run);
        if let Value::Object(map) = &mut obj {
            map.insert("task_name".into(), json!(d.task_name));
            map.insert(
                "attempts".into(),
                Value::Array(
                    attempts
                        .iter()
                        .map(|a| {
                            json!({
                                "attempt": a.attempt,
                                "at": time_json(a.at),
                                "outcome": a.outcome,
                                "message": a.message,
                            })
                        })
                        .collect(),
                ),
            );
            map.insert(
                "lease".into(),
                d.lease.map_or(Value::Null, |l| lease_json(&l, now)),
            );
            map.insert(
                "worker".into(),
                d.worker
                    .as_ref()
                    .map_or(Value::Null, |w| worker_json(w, now)),
            );
            map.insert("upstream".into(), edges_json(&d.upstream, true));
            map.insert("downstream".into(), edges_json(&d.downstream, false));
        }
        return emit_json(&obj);
    }

    let task = match (run.task_id, &d.task_name) {
        (Some(t), Some(name)) => format!("{t} ({name})"),
        (Some(t), None) => t.to_string(),
        (None, _) => "-".to_owned(),
    };
    let mut out = key_values(&[
        ("run", run.id.to_string()),
        ("job type", run.job_type.clone()),
        ("task", task),
        ("status", status_text(run)),
        ("priority", run.priority.to_string()),
        (
            "attempts",
            format!("{} of {}", run.attempt, run.max_attempts),
        ),
        ("queue", run.queue.clone()),
        ("snoozes", run.snoozes.to_string()),
        (
            "timeout",
            run.timeout.map_or_else(|| "none".to_owned(), duration),
        ),
        ("backoff", duration(run.backoff)),
        (
            "unique key",
            run.unique_key.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("created at", time(run.created_at)),
        ("scheduled at", time(run.scheduled_at)),
        ("started at", time_opt(run.started_at)),
        ("finished at", time_opt(run.finished_at)),
        (
            "took",
            run.duration.map_or_else(|| "-".to_owned(), duration),
        ),
        ("blocked on", format!("{} upstream run(s)", run.blocked_on)),
        (
            "cancel",
            match (&run.cancel_reason, run.cancel_requested) {
                (Some(r), true) => format!("requested: {r}"),
                (Some(r), false) => r.clone(),
                (None, true) => "requested".to_owned(),
                (None, false) => "-".to_owned(),
            },
        ),
        ("payload", clip(&run.payload, 200)),
        (
            "result",
            run.result
                .as_deref()
                .map_or_else(|| "-".to_owned(), |r| clip(r, 200)),
        ),
        (
            "last error",
            run.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ),
    ]);

    out.push_str("\nattempts:\n");
    if attempts.is_empty() {
        out.push_str("  none yet\n");
    } else {
        let mut t = Table::new(&["attempt", "at", "outcome", "message"]);
        for a in &attempts {
            t.row(vec![
                a.attempt.to_string(),
                time_opt(a.at),
                a.outcome.clone(),
                a.message.clone().unwrap_or_else(|| "-".to_owned()),
            ]);
        }
        out.push_str(&indent(&t.render()));
    }

    out.push_str("\nlease:\n");
    match &d.lease {
        None => out.push_str("  none\n"),
        Some(l) => {
            let expiry = if l.expires_at <= now {
                format!("expired {}", age(now, l.expires_at))
            } else {
                format!("expires {}", age(now, l.expires_at))
            };
            out.push_str(&indent(&key_values(&[
                ("token", l.token.to_string()),
                ("holder", format!("worker {}", l.worker_id)),
                ("acquired at", time(l.acquired_at)),
                ("expires at", format!("{} ({expiry})", time(l.expires_at))),
            ])));
        }
    }

    out.push_str("\nworker:\n");
    match &d.worker {
        None => out.push_str("  none\n"),
        Some(w) => out.push_str(&indent(&key_values(&[
            ("id", w.id.to_string()),
            ("name", w.name.clone()),
            ("host", format!("{} (pid {})", w.host, w.pid)),
            ("status", w.status.to_string()),
            (
                "heartbeat",
                format!(
                    "{} ({})",
                    time(w.last_heartbeat),
                    age(now, w.last_heartbeat)
                ),
            ),
        ]))),
    }

    out.push_str(&format!("\nupstream (run {} waits for):\n", run.id));
    out.push_str(&edges_table(&d.upstream, true));
    out.push_str(&format!("\ndownstream (waiting for run {}):\n", run.id));
    out.push_str(&edges_table(&d.downstream, false));
    emit(&out)
}

/// Two spaces before each line, for blocks under a heading.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Edges with the run at their other end, as an indented table (`none` when empty).
fn edges_table(edges: &[Dependency], upstream: bool) -> String {
    if edges.is_empty() {
        return "  none\n".to_owned();
    }
    let mut t = Table::new(&["run", "job type", "status", "on failure", "resolved"]);
    for Dependency { edge: e, other, .. } in edges {
        let id = if upstream { e.upstream } else { e.downstream };
        t.row(vec![
            id.to_string(),
            other
                .as_ref()
                .map_or_else(|| "-".to_owned(), |r| r.job_type.clone()),
            other
                .as_ref()
                .map_or_else(|| "(archived)".to_owned(), |r| r.status.to_string()),
            e.on_failure.to_string(),
            yes_no(e.resolved),
        ]);
    }
    indent(&t.render())
}

/// Edges as JSON, each with the other end's run id, job type and status.
fn edges_json(edges: &[Dependency], upstream: bool) -> Value {
    Value::Array(
        edges
            .iter()
            .map(|Dependency { edge: e, other, .. }| {
                let mut v = edge_json(e);
                if let Value::Object(map) = &mut v {
                    let id = if upstream { e.upstream } else { e.downstream };
                    map.insert("run".into(), json!(id.get()));
                    map.insert(
                        "job_type".into(),
                        json!(other.as_ref().map(|r| r.job_type.clone())),
                    );
                    map.insert(
                        "status".into(),
                        json!(other.as_ref().map(|r| r.status.as_str())),
                    );
                }
                v
            })
            .collect(),
    )
}

fn retry(ctx: &Ctx, id: RunId) -> CliResult<()> {
    let run = ctx.open()?.retry(id)?;
    if ctx.json {
        return emit_json(&run_json(&run));
    }
    emit(&format!(
        "run {id} ({}) is {} again, due now: {} of {} attempts used; a running host picks it up \
         within its poll interval\n",
        run.job_type, run.status, run.attempt, run.max_attempts
    ))
}

fn retry_where(ctx: &Ctx, args: &RetryArgs) -> CliResult<()> {
    if args.filters.is_empty() {
        return Err(CliError::new(
            "give a run id, or at least one filter (--status, --type, --task, --since, \
             --until): retrying every failed run needs `--status failed`",
        ));
    }
    let admin = ctx.open()?;
    let filter = args.filters.to_filter(&admin, args.limit)?;
    let report = admin.retry_where(&filter)?;
    if ctx.json {
        return emit_json(&json!({
            "retried": report.retried.iter().map(|id| id.get()).collect::<Vec<_>>(),
            "refused": report
                .refused
                .iter()
                .map(|(id, e)| json!({ "id": id.get(), "reason": e.report().to_string() }))
                .collect::<Vec<_>>(),
        }));
    }
    let mut out = format!(
        "retried {} run(s), {} refused\n",
        report.retried.len(),
        report.refused.len()
    );
    for (id, e) in &report.refused {
        out.push_str(&format!("  run {id}: {}\n", e.report()));
    }
    emit(&out)
}

fn cancel(ctx: &Ctx, id: RunId, reason: &str) -> CliResult<()> {
    let admin = ctx.open()?;
    // The cascade is written before this returns, in short transactions of its own.
    let outcome = admin.cancel(id, reason)?;
    let RunDetails {
        run, downstream, ..
    } = admin.run_details(id)?;
    let dependents = downstream
        .iter()
        .filter(|d| d.edge.downstream_status == RunStatus::Cancelled)
        .count();
    let outcome_name = match outcome {
        CancelOutcome::Cancelled => "cancelled",
        CancelOutcome::Requested => "requested",
        _ => "unknown",
    };
    if ctx.json {
        return emit_json(&json!({
            "id": id.get(),
            "outcome": outcome_name,
            "status": run.status.as_str(),
            "dependents_cancelled": dependents,
        }));
    }
    let text = match outcome {
        CancelOutcome::Requested => format!(
            "run {id} ({}) is running: cancellation requested; its worker stops it at its next \
             heartbeat\n",
            run.job_type
        ),
        _ if dependents > 0 => format!(
            "run {id} ({}) cancelled, and {dependents} dependent run(s) with it\n",
            run.job_type
        ),
        _ => format!("run {id} ({}) cancelled\n", run.job_type),
    };
    emit(&text)
}

/// Runs `deps`.
pub(crate) fn deps(ctx: &Ctx, args: &DepsArgs) -> CliResult<()> {
    let admin = ctx.open()?;
    let id = RunId::new(args.id);
    let RunDetails {
        run,
        upstream,
        downstream,
        ..
    } = admin.run_details(id)?;
    let graph = if args.graph {
        Some(admin.dependency_graph(id)?)
    } else {
        None
    };
    if ctx.json {
        let mut obj = json!({
            "run": run.id.get(),
            "job_type": run.job_type,
            "status": run.status.as_str(),
            "upstream": edges_json(&upstream, true),
            "downstream": edges_json(&downstream, false),
        });
        if let (Some(graph), Value::Object(map)) = (&graph, &mut obj) {
            map.insert(
                "graph".into(),
                Value::Array(graph.iter().map(edge_json).collect()),
            );
        }
        return emit_json(&obj);
    }
    let mut out = format!("run {} {} ({})\n", run.id, run.job_type, run.status);
    out.push_str(&format!("\nupstream (run {} waits for):\n", run.id));
    out.push_str(&edges_table(&upstream, true));
    out.push_str(&format!("\ndownstream (waiting for run {}):\n", run.id));
    out.push_str(&edges_table(&downstream, false));
    if let Some(graph) = graph {
        out.push_str("\ngraph (every edge among its ancestors and descendants):\n");
        if graph.is_empty() {
            out.push_str("  none\n");
        } else {
            let mut t = Table::new(&["upstream", "", "downstream", "on failure", "resolved"]);
            for e in &graph {
                t.row(vec![
                    format!("{} ({})", e.upstream, e.upstream_status),
                    "->".to_owned(),
                    format!("{} ({})", e.downstream, e.downstream_status),
                    e.on_failure.to_string(),
                    yes_no(e.resolved),
                ]);
            }
            out.push_str(&indent(&t.render()));
        }
    }
    emit(&out)
}
