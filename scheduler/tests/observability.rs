//! What a service sees of the runtime: log lines at sensible levels (per-run lines at
//! debug, failures and panics at warn, a retry never above debug), a `tracing` span per
//! attempt that the job's own events sit in, and metrics through the `metrics` facade
//! (counters, histograms, gauges of runs by status and job type). The logger, the
//! metrics recorder and the tracing subscriber are process-wide, so they live in this
//! test binary of their own, installed once, and each test uses job types of its own.
#![cfg(all(feature = "derive", feature = "metrics", feature = "tracing"))]

mod common;

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use common::{TestDb, builder, wait_for};
use metrics_util::{
    CompositeKey, MetricKind,
    debugging::{DebugValue, DebuggingRecorder, Snapshotter},
};
use runloom::{Job, JobContext, JobError, Perform, RunStatus};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

/// Every log record: level and message.
static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());
/// Spans named `runloom.attempt` seen, with their fields; and events inside them.
static SPANS: Mutex<Vec<HashMap<String, String>>> = Mutex::new(Vec::new());
static INSIDE: Mutex<Vec<(String, Option<String>)>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("runloom") {
            LINES
                .lock()
                .unwrap()
                .push((record.level(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

/// A tracing layer that keeps the fields of attempt spans, and for each event the
/// `run_id` of the attempt span it happened in.
struct Spans;

#[derive(Default)]
struct Fields(HashMap<String, String>);
impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S> tracing_subscriber::Layer<S> for Spans
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() != "runloom.attempt" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        SPANS.lock().unwrap().push(fields.0.clone());
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut message = Fields::default();
        event.record(&mut message);
        let run = ctx.event_scope(event).and_then(|scope| {
            scope
                .filter_map(|s| {
                    s.extensions()
                        .get::<Fields>()
                        .and_then(|f| f.0.get("run_id").cloned())
                })
                .next()
        });
        INSIDE
            .lock()
            .unwrap()
            .push((message.0.get("message").cloned().unwrap_or_default(), run));
    }
}

/// What the recorder reported so far: a snapshot drains counters and histograms, so
/// every read adds to these totals (gauges keep their latest value).
#[derive(Default)]
struct Totals {
    counters: HashMap<(String, Vec<(String, String)>), u64>,
    gauges: HashMap<(String, Vec<(String, String)>), f64>,
    histograms: HashMap<(String, Vec<(String, String)>), usize>,
}

static TOTALS: Mutex<Option<Totals>> = Mutex::new(None);

fn key_of(key: &CompositeKey) -> (String, Vec<(String, String)>) {
    let k = key.key();
    let mut labels: Vec<(String, String)> = k
        .labels()
        .map(|l| (l.key().to_owned(), l.value().to_owned()))
        .collect();
    labels.sort();
    (k.name().to_owned(), labels)
}

/// Reads the recorder into the totals, and looks up `name` with at least `labels`.
fn read(kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let snap = install();
    let mut totals = TOTALS.lock().unwrap();
    let totals = totals.get_or_insert_with(Totals::default);
    for (key, _, _, value) in snap.snapshot().into_vec() {
        let k = key_of(&key);
        match value {
            DebugValue::Counter(n) => *totals.counters.entry(k).or_default() += n,
            DebugValue::Gauge(v) => {
                totals.gauges.insert(k, v.into_inner());
            }
            DebugValue::Histogram(samples) => {
                *totals.histograms.entry(k).or_default() += samples.len();
            }
        }
    }
    let matches = |(n, ls): &(String, Vec<(String, String)>)| {
        n == name
            && labels
                .iter()
                .all(|(a, b)| ls.iter().any(|(x, y)| x == a && y == b))
    };
    #[allow(clippy::cast_precision_loss)]
    match kind {
        MetricKind::Counter => Some(
            totals
                .counters
                .iter()
                .filter(|(k, _)| matches(k))
                .map(|(_, n)| *n as f64)
                .sum(),
        ),
        MetricKind::Gauge => totals
            .gauges
            .iter()
            .find(|(k, _)| matches(k))
            .map(|(_, v)| *v),
        MetricKind::Histogram => Some(
            totals
                .histograms
                .iter()
                .filter(|(k, _)| matches(k))
                .map(|(_, n)| *n as f64)
                .sum(),
        ),
    }
}

fn install() -> &'static Snapshotter {
    static SNAP: OnceLock<Snapshotter> = OnceLock::new();
    SNAP.get_or_init(|| {
        log::set_boxed_logger(Box::new(Capture)).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Spans))
            .unwrap();
        let recorder = DebuggingRecorder::new();
        let snap = recorder.snapshotter();
        recorder.install().unwrap();
        snap
    })
}

/// Each attempt decides from its payload: complete, retry once, panic once, fail.
#[derive(Serialize, Deserialize, Job)]
#[job(name = "obs_work", backoff = "0s", max_attempts = 3)]
struct Work {
    how: String,
}

impl Perform for Work {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(how = %self.how, "working");
        match (self.how.as_str(), ctx.attempt()) {
            ("retry", 1) => Err(JobError::retry("flaky upstream")),
            ("panic", 1) => panic!("bug in the job"),
            ("fail", _) => Err(JobError::fail("bad input")),
            _ => Ok(()),
        }
    }
}

fn lines_about(run: runloom::RunId) -> Vec<(log::Level, String)> {
    let needle = format!("run {run} ");
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, m)| m.starts_with(&needle))
        .cloned()
        .collect()
}

#[test]
fn logs_spans_and_metrics_of_runs_that_complete_retry_panic_and_fail() {
    install();
    let db = TestDb::new();
    let s = builder(&db)
        .metrics_interval(Duration::from_millis(100))
        .register::<Work>()
        .start()
        .unwrap();
    let ids: Vec<_> = ["ok", "retry", "panic", "fail"]
        .iter()
        .map(|how| s.enqueue(Work { how: (*how).into() }).unwrap().id)
        .collect();
    let runs = s.wait_all(&ids, WAIT).unwrap();
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Completed,
            RunStatus::Completed,
            RunStatus::Completed,
            RunStatus::Failed
        ]
    );

    // Logs: a healthy run says nothing above debug; a retry neither; a panic and a
    // permanent failure warn.
    let (ok, retry, panic, fail) = (ids[0], ids[1], ids[2], ids[3]);
    // The completion's line is written after its commit, so wait_all may return first.
    assert!(wait_for(WAIT, || lines_about(fail).iter().any(|(l, m)| *l
        == log::Level::Warn
        && m.contains("failed for good"))));
    for (level, m) in lines_about(ok) {
        assert_eq!(level, log::Level::Debug, "{m}");
    }
    assert!(lines_about(ok).iter().any(|(_, m)| m.contains("completed")));
    for (level, m) in lines_about(retry) {
        assert_eq!(level, log::Level::Debug, "a retry is not a warning: {m}");
    }
    assert!(
        lines_about(retry)
            .iter()
            .any(|(_, m)| m.contains("flaky upstream"))
    );
    assert!(
        lines_about(panic)
            .iter()
            .any(|(l, m)| *l == log::Level::Warn && m.contains("panicked")),
        "{:?}",
        lines_about(panic)
    );

    // Spans: one per attempt (six: the retried and the panicking run ran twice), with
    // the run, type and attempt; the job's own event sits in its attempt's span.
    let spans: Vec<HashMap<String, String>> = SPANS
        .lock()
        .unwrap()
        .iter()
        .filter(|f| f.get("job_type").map(String::as_str) == Some("obs_work"))
        .cloned()
        .collect();
    assert_eq!(spans.len(), 6, "{spans:?}");
    assert!(
        spans
            .iter()
            .any(|f| f.get("run_id") == Some(&retry.to_string())
                && f.get("attempt").map(String::as_str) == Some("2"))
    );
    let inside: Vec<Option<String>> = INSIDE
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _)| m == "working")
        .map(|(_, run)| run.clone())
        .collect();
    assert_eq!(inside.len(), 6);
    assert!(inside.iter().all(Option::is_some), "{inside:?}");

    // Metrics.
    use runloom::observe::metrics as m;
    let counter = |name: &str, labels: &[(&str, &str)]| read(MetricKind::Counter, name, labels);
    let t = [("job_type", "obs_work")];
    assert!(wait_for(WAIT, || counter(m::COMPLETED, &t) == Some(3.0)));
    assert_eq!(counter(m::ENQUEUED, &t), Some(4.0));
    assert_eq!(counter(m::STARTED, &t), Some(6.0));
    assert_eq!(counter(m::FAILED, &t), Some(1.0));
    assert_eq!(counter(m::RETRIED, &t), Some(2.0));
    assert_eq!(counter(m::PANICS, &t), Some(1.0));
    assert_eq!(
        counter(m::RETRIED, &[("job_type", "obs_work"), ("kind", "panic")]),
        Some(1.0)
    );
    assert_eq!(read(MetricKind::Histogram, m::QUEUE_WAIT, &t), Some(6.0));
    assert_eq!(read(MetricKind::Histogram, m::RUN_DURATION, &t), Some(3.0));
    assert!(read(MetricKind::Histogram, m::TRANSACTION, &[]) > Some(0.0));
    // The gauges come from the database (every 100 ms here).
    assert!(wait_for(WAIT, || read(
        MetricKind::Gauge,
        m::RUNS,
        &[("status", "failed")]
    ) >= Some(1.0)));
    s.shutdown(WAIT).unwrap();
}

#[test]
fn the_unfinished_gauge_counts_by_job_type_and_falls_back_to_zero() {
    #[derive(Serialize, Deserialize, Job)]
    #[job(name = "obs_gauge")]
    struct Later;
    impl Perform for Later {
        type Output = ();
        fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }
    install();
    let db = TestDb::new();
    let s = builder(&db)
        .metrics_interval(Duration::from_millis(100))
        .register::<Later>()
        .start()
        .unwrap();
    s.pause().unwrap();
    let ids: Vec<_> = (0..3).map(|_| s.enqueue(Later).unwrap().id).collect();
    let pending = || {
        read(
            MetricKind::Gauge,
            runloom::observe::metrics::UNFINISHED,
            &[("job_type", "obs_gauge"), ("status", "pending")],
        )
    };
    assert!(wait_for(WAIT, || pending() == Some(3.0)), "{:?}", pending());
    s.resume().unwrap();
    s.wait_all(&ids, WAIT).unwrap();
    assert!(wait_for(WAIT, || pending() == Some(0.0)), "{:?}", pending());
    s.shutdown(WAIT).unwrap();
}
