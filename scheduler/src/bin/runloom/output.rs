//! Printing: aligned tables and key/value blocks for people, JSON for scripts, and the
//! formats of times and durations shared by every command.

use std::{
    io::{self, Write},
    time::Duration,
};

use runloom::{DependencyEdge, Lease, Run, Worker};
use serde_json::{Map, Value, json};
use time::{
    OffsetDateTime, UtcOffset,
    format_description::{FormatItem, well_known::Rfc3339},
    macros::format_description,
};

use crate::CliResult;

/// Writes `text` to stdout. A closed pipe (`runloom runs list | head`) is not an error:
/// the reader has what it wanted.
pub(crate) fn emit(text: &str) -> CliResult<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes `value` as pretty JSON and a newline.
pub(crate) fn emit_json(value: &Value) -> CliResult<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::CliError::new(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    emit(&text)
}

/// A time as RFC 3339 in UTC with milliseconds (the database's resolution), always
/// three digits so columns line up: `2026-01-05T09:00:00.000Z`.
pub(crate) fn time(t: OffsetDateTime) -> String {
    const FORMAT: &[FormatItem<'_>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let t = t.to_offset(UtcOffset::UTC);
    // Only years outside 0..=9999 fail to format; the database cannot hold them, but
    // a readable fallback beats an error.
    t.format(FORMAT)
        .or_else(|_| t.format(&Rfc3339))
        .unwrap_or_else(|_| t.to_string())
}

/// An optional time, `-` when absent.
pub(crate) fn time_opt(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "-".to_owned(), time)
}

/// An optional time as JSON (`null` when absent).
pub(crate) fn time_json(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time(t)))
}

/// Milliseconds of a duration, saturating.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration for people: `350ms`, `2.5s`, `3m20s`, `2h05m`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = ms(d);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// How long ago `t` was, for people (`-` when it is in the future by more than a
/// clock's skew would explain).
pub(crate) fn age(now: OffsetDateTime, t: OffsetDateTime) -> String {
    match Duration::try_from(now - t) {
        Ok(d) => format!("{} ago", duration(d)),
        Err(_) => format!(
            "in {}",
            duration(Duration::try_from(t - now).unwrap_or_default())
        ),
    }
}

/// Milliseconds from `t` to `now` (negative when `t` is later).
pub(crate) fn age_ms(now: OffsetDateTime, t: OffsetDateTime) -> i64 {
    i64::try_from((now - t).whole_milliseconds()).unwrap_or(i64::MAX)
}

/// A JSON cell as text: strings bare, `null` as `-`.
pub(crate) fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A text cut to `max` characters with an ellipsis, for table cells that hold payloads
/// and messages.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A table with a header row; columns are as wide as their widest cell.
#[derive(Debug)]
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column names.
    pub(crate) fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines of text, each ending with a newline.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                let w = c.chars().count();
                match widths.get_mut(i) {
                    Some(old) => *old = (*old).max(w),
                    None => widths.push(w),
                }
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let c = row.get(i).map_or("", String::as_str);
                line.push_str(c);
                let pad = width.saturating_sub(c.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Key/value lines with the keys aligned.
pub(crate) fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!("{k:<width$}  {v}\n"));
    }
    out
}

/// A table of view rows (JSON objects): `(column, header)` pairs pick and name the
/// columns; `-` for missing values.
pub(crate) fn view_table(rows: &[Map<String, Value>], columns: &[(&str, &str)]) -> Table {
    let headers: Vec<&str> = columns.iter().map(|(_, h)| *h).collect();
    let mut table = Table::new(&headers);
    for row in rows {
        table.row(
            columns
                .iter()
                .map(|(c, _)| row.get(*c).map_or_else(|| "-".to_owned(), cell))
                .collect(),
        );
    }
    table
}

/// A JSON text decoded for the JSON output, kept as a string when it does not parse.
fn json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Typed figures as the rows of their view (field names are the view's columns).
pub(crate) fn rows<T: serde::Serialize>(items: &[T]) -> Vec<Map<String, Value>> {
    items
        .iter()
        .filter_map(|item| match serde_json::to_value(item) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        })
        .collect()
}

/// A run as JSON, with every stored field.
pub(crate) fn run_json(run: &Run) -> Value {
    let errors: Vec<Value> = run
        .errors
        .iter()
        .map(|e| {
            json!({
                "attempt": e.attempt,
                "at": time(e.at),
                "kind": e.kind.as_str(),
                "message": e.message,
            })
        })
        .collect();
    json!({
        "id": run.id.get(),
        "task_id": run.task_id.map(|t| t.get()),
        "job_type": run.job_type,
        "status": run.status.as_str(),
        "priority": run.priority,
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "snoozes": run.snoozes,
        "queue": run.queue,
        "timeout_ms": run.timeout.map(ms),
        "backoff_ms": ms(run.backoff),
        "unique_key": run.unique_key,
        "scheduled_at": time(run.scheduled_at),
        "blocked_on": run.blocked_on,
        "worker_id": run.worker_id.map(|w| w.get()),
        "lease_token": run.lease_token,
        "cancel_requested": run.cancel_requested,
        "cancel_reason": run.cancel_reason,
        "created_at": time(run.created_at),
        "started_at": time_json(run.started_at),
        "finished_at": time_json(run.finished_at),
        "duration_ms": run.duration.map(ms),
        "payload": json_text(&run.payload),
        "result": run.result.as_deref().map(json_text),
        "last_error": run.last_error,
        "errors": errors,
    })
}

/// A lease as JSON.
pub(crate) fn lease_json(lease: &Lease, now: OffsetDateTime) -> Value {
    json!({
        "run_id": lease.run_id.get(),
        "worker_id": lease.worker_id.get(),
        "token": lease.token,
        "acquired_at": time(lease.acquired_at),
        "expires_at": time(lease.expires_at),
        "expired": lease.expires_at <= now,
    })
}

/// A worker as JSON, with its heartbeat age at `now`.
pub(crate) fn worker_json(w: &Worker, now: OffsetDateTime) -> Value {
    json!({
        "id": w.id.get(),
        "name": w.name,
        "host": w.host,
        "pid": w.pid,
        "threads": w.threads,
        "version": w.version,
        "status": w.status.as_str(),
        "started_at": time(w.started_at),
        "last_heartbeat": time(w.last_heartbeat),
        "heartbeat_age_ms": age_ms(now, w.last_heartbeat),
        "stopped_at": time_json(w.stopped_at),
        "in_flight": w.leases_held,
    })
}

/// A dependency edge as JSON.
pub(crate) fn edge_json(e: &DependencyEdge) -> Value {
    json!({
        "upstream": e.upstream.get(),
        "upstream_status": e.upstream_status.as_str(),
        "downstream": e.downstream.get(),
        "downstream_status": e.downstream_status.as_str(),
        "on_failure": e.on_failure.as_str(),
        "resolved": e.resolved,
        "created_at": time(e.created_at),
    })
}

/// A yes/no cell.
pub(crate) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}
