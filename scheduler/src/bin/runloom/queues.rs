//! `runloom queues`: the queues with their runs, and pausing one for every process.

use clap::Subcommand;
use runloom::{Clock, QueueInfo, SystemClock, time::OffsetDateTime};
use serde_json::{Value, json};

use crate::{
    CliResult, Ctx,
    output::{Table, age, emit, emit_json, time_json, yes_no},
};

/// `runloom queues ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum QueuesCommand {
    /// Every queue with unfinished runs or a pause record: pending (due now and
    /// later), the longest wait, running runs, paused.
    List,
    /// Stops claiming from a queue in every process sharing the database (running
    /// jobs finish; other queues go on).
    Pause {
        /// The queue.
        name: String,
    },
    /// Resumes claiming from a queue in every process sharing the database.
    Resume {
        /// The queue.
        name: String,
    },
}

pub(crate) fn queue_json(q: &QueueInfo) -> Value {
    json!({
        "name": q.name,
        "paused": q.paused,
        "pending": q.pending,
        "due": q.due,
        "oldest_due": time_json(q.oldest_due),
        "running": q.running,
    })
}

/// The queues as a table, the longest wait counted to `now`.
pub(crate) fn queues_table(queues: &[QueueInfo], now: OffsetDateTime) -> Table {
    let mut table = Table::new(&["queue", "paused", "pending", "due", "waited", "running"]);
    for q in queues {
        table.row(vec![
            q.name.clone(),
            yes_no(q.paused),
            q.pending.to_string(),
            q.due.to_string(),
            q.oldest_due.map_or_else(|| "-".to_owned(), |t| age(now, t)),
            q.running.to_string(),
        ]);
    }
    table
}

pub(crate) fn run(ctx: &Ctx, cmd: &QueuesCommand) -> CliResult<()> {
    let admin = ctx.open()?;
    match cmd {
        QueuesCommand::List => {
            let queues = admin.queues()?;
            if ctx.json {
                return emit_json(&Value::Array(queues.iter().map(queue_json).collect()));
            }
            if queues.is_empty() {
                return emit("no queue has unfinished runs or was paused\n");
            }
            emit(&queues_table(&queues, SystemClock.now()).render())
        }
        QueuesCommand::Pause { name } | QueuesCommand::Resume { name } => {
            let pause = matches!(cmd, QueuesCommand::Pause { .. });
            let changed = if pause {
                admin.pause_queue(name)?
            } else {
                admin.resume_queue(name)?
            };
            if ctx.json {
                return emit_json(&json!({ "queue": name, "paused": pause, "changed": changed }));
            }
            let text = match (pause, changed) {
                (true, false) => format!("queue {name} was paused already\n"),
                (false, false) => format!("queue {name} was not paused: nothing to resume\n"),
                (true, true) => format!(
                    "queue {name} paused: no process claims its runs until \
                     `runloom queues resume {name}` (running jobs finish)\n"
                ),
                (false, true) => format!("queue {name} resumed: processes claim its runs again\n"),
            };
            emit(&text)
        }
    }
}
