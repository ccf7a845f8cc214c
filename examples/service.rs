//! A small web service on the scheduler, the way a real one is built: an axum front end
//! on tokio whose sign-up handler writes the application's own `users` table and
//! enqueues a welcome email in the same transaction, without blocking the executor; a
//! job that reads the application's state (a mailer's configuration) and marks the user
//! welcomed in the transaction that completes its run (exactly once); logs and per-run
//! traces printed by `tracing-subscriber`; metrics served to Prometheus on `/metrics`;
//! and a unit test of the job in the test mode (`cargo test --example service`).
//!
//! ```text
//! cargo run --example service                # signs up two users against itself, prints what happened
//! cargo run --example service -- --serve 127.0.0.1:3000   # serves until Ctrl-C
//! curl -XPOST localhost:3000/signup -H 'content-type: application/json' -d '{"email":"ann@example.com"}'
//! curl localhost:3000/runs/1 ; curl localhost:3000/metrics
//! ```

use std::{net::SocketAddr, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use runloom::{
    EnqueueOptions, Job, JobContext, JobError, Perform, RunId, RunStatus, Scheduler,
    sqlite::{JobContextExt, SchedulerExt, rusqlite},
    tokio::AsyncScheduler,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The service's database: its own tables and the scheduler's, in one file.
const DB: &str = "service.db";

/// The application's state that jobs read: given to the builder once, no globals.
struct Mailer {
    from: String,
}

/// Sends the welcome email of a user who signed up, and marks them welcomed.
#[derive(Serialize, Deserialize, Job, Debug, PartialEq)]
#[job(state = "Mailer", max_attempts = 5, backoff = "2s", unique = "user")]
struct Welcome {
    user: i64,
    email: String,
}

impl Perform for Welcome {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        let mailer = ctx.state::<Mailer>()?;
        // The mail provider would get ctx.idempotency_key(), so a retried run sends once.
        let message = format!(
            "{} -> {} ({})",
            mailer.from,
            self.email,
            ctx.idempotency_key()
        );
        tracing::info!(user = self.user, "welcome email sent");
        // The application's row and the run's completion commit together.
        ctx.transaction(|db| {
            db.execute(
                "UPDATE users SET welcomed = welcomed + 1 WHERE id = ?1",
                [self.user],
            )?;
            Ok(message)
        })
    }
}

/// What the HTTP handlers share.
#[derive(Clone)]
struct App {
    scheduler: AsyncScheduler,
    prometheus: PrometheusHandle,
}

#[derive(Deserialize)]
struct SignUp {
    email: String,
}

#[derive(Serialize)]
struct SignedUp {
    user: i64,
    welcome_run: i64,
}

/// POST /signup: the user row and the welcome run in one transaction, on the blocking
/// pool (the executor goes on serving other requests meanwhile).
async fn signup(
    State(app): State<App>,
    Json(body): Json<SignUp>,
) -> Result<Json<SignedUp>, (StatusCode, String)> {
    if !body.email.contains('@') {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "not an email address".into(),
        ));
    }
    let done = app
        .scheduler
        .call(
            move |s| -> Result<SignedUp, Box<dyn std::error::Error + Send + Sync>> {
                let mut conn = rusqlite::Connection::open(DB)?;
                conn.busy_timeout(Duration::from_secs(5))?;
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("INSERT INTO users (email) VALUES (?1)", [&body.email])?;
                let user = tx.last_insert_rowid();
                let run = s.enqueue_tx(
                    &tx,
                    Welcome {
                        user,
                        email: body.email,
                    },
                    EnqueueOptions::new(),
                )?;
                tx.commit()?;
                s.notify();
                Ok(SignedUp {
                    user,
                    welcome_run: run.id.get(),
                })
            },
        )
        .await
        .map_err(internal)?
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(done))
}

#[derive(Serialize)]
struct RunView {
    id: i64,
    job_type: String,
    status: String,
    attempts: u32,
    result: Option<String>,
}

/// GET /runs/{id}: a run as the scheduler sees it.
async fn run(
    State(app): State<App>,
    Path(id): Path<i64>,
) -> Result<Json<RunView>, (StatusCode, String)> {
    match app.scheduler.run(RunId::new(id)).await {
        Ok(run) => Ok(Json(RunView {
            id: run.id.get(),
            job_type: run.job_type.clone(),
            status: run.status.to_string(),
            attempts: run.attempt,
            result: run.result::<String>().ok(),
        })),
        Err(runloom::Error::RunNotFound(_)) => Err((StatusCode::NOT_FOUND, "no such run".into())),
        Err(e) => Err(internal(e)),
    }
}

/// GET /metrics: everything the `metrics` facade recorded, for Prometheus to scrape.
async fn metrics(State(app): State<App>) -> String {
    app.prometheus.render()
}

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// The application's own schema, made before the scheduler ever opens the file.
fn create_app_tables() -> Result<(), rusqlite::Error> {
    let conn = rusqlite::Connection::open(DB)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS users (
             id INTEGER PRIMARY KEY,
             email TEXT NOT NULL UNIQUE,
             welcomed INTEGER NOT NULL DEFAULT 0
         );",
    )
}

fn router(app: App) -> Router {
    Router::new()
        .route("/signup", post(signup))
        .route("/runs/{id}", get(run))
        .route("/metrics", get(metrics))
        .with_state(app)
}

/// One request of the demo against the service itself, over plain HTTP/1.1.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or(response))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let serve: Option<SocketAddr> = match std::env::args().nth(1).as_deref() {
        Some("--serve") => Some(
            std::env::args()
                .nth(2)
                .unwrap_or_else(|| "127.0.0.1:3000".into())
                .parse()?,
        ),
        _ => None,
    };
    if serve.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{DB}{suffix}"));
        }
    }
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    create_app_tables()?;
    let scheduler = Scheduler::builder()
        .database(DB)
        .state(Mailer {
            from: "hello@example.com".into(),
        })
        .register::<Welcome>()
        .metrics_interval(Duration::from_secs(1))
        .start()?;
    let app = App {
        scheduler: AsyncScheduler::new(scheduler),
        prometheus,
    };
    let listener =
        tokio::net::TcpListener::bind(serve.unwrap_or(([127, 0, 0, 1], 0).into())).await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router(app.clone()))
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .into_future(),
    );
    println!("service listening on http://{addr}");

    if serve.is_some() {
        tokio::signal::ctrl_c().await?;
    } else {
        demo(&app, addr).await?;
    }
    let _ = stop_tx.send(());
    server.await??;
    let report = app.scheduler.shutdown(Duration::from_secs(5)).await?;
    println!(
        "shut down: {} finished in the grace period, {} released",
        report.finished,
        report.released.len()
    );
    Ok(())
}

/// Signs up two users (and one bad request) against the service itself, waits for
/// their welcome runs, and shows what the database and the metrics say.
async fn demo(app: &App, addr: SocketAddr) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut runs = Vec::new();
    for email in ["ann@example.com", "bob@example.com"] {
        let reply = request(
            addr,
            "POST",
            "/signup",
            &format!(r#"{{"email":"{email}"}}"#),
        )
        .await?;
        let signed: serde_json::Value = serde_json::from_str(&reply)?;
        println!("signed up {email}: {reply}");
        runs.push(RunId::new(
            signed["welcome_run"]
                .as_i64()
                .ok_or("no run in the reply")?,
        ));
    }
    let refused = request(addr, "POST", "/signup", r#"{"email":"nobody"}"#).await?;
    println!("refused a bad address: {refused}");
    let done = app
        .scheduler
        .wait_all(runs.clone(), Duration::from_secs(20))
        .await?;
    for run in &done {
        if run.status != RunStatus::Completed {
            return Err(format!("welcome run {} is {}", run.id, run.status).into());
        }
        println!(
            "welcome run {} completed: {}",
            run.id,
            run.result::<String>()?
        );
    }
    println!(
        "GET /runs/{}: {}",
        runs[0],
        request(addr, "GET", &format!("/runs/{}", runs[0]), "").await?
    );
    let welcomed: i64 = app
        .scheduler
        .call(|_| -> rusqlite::Result<i64> {
            rusqlite::Connection::open(DB)?
                .query_row("SELECT sum(welcomed) FROM users", [], |r| r.get(0))
        })
        .await??;
    println!("users welcomed: {welcomed} (each exactly once)");
    // The gauges are read every second: wait for them to show the completed runs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let text = request(addr, "GET", "/metrics", "").await?;
        if text.contains("runloom_runs{status=\"completed\"} 2")
            || tokio::time::Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for line in scrape.lines().filter(|l| {
        l.starts_with("runloom_runs_completed_total")
            || l.starts_with("runloom_runs{status=\"completed\"}")
            || l.starts_with("runloom_queue_wait_seconds_count")
    }) {
        println!("metrics: {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use runloom::testing::TestContext;

    use super::*;

    /// The job alone, in the test mode: the user is marked welcomed, in a database of
    /// the test's own, with the state the test gives.
    #[test]
    fn welcome_marks_the_user_and_names_the_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, welcomed INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO users (id, email) VALUES (7, 'ann@example.com');",
            )
            .unwrap();
        let done = TestContext::new()
            .state(Mailer {
                from: "test@example.com".into(),
            })
            .database(&path)
            .perform(&Welcome {
                user: 7,
                email: "ann@example.com".into(),
            })
            .unwrap();
        let message = done.result.unwrap();
        assert!(
            message.starts_with("test@example.com -> ann@example.com"),
            "{message}"
        );
        let welcomed: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT welcomed FROM users WHERE id = 7", [], |r| r.get(0))
            .unwrap();
        assert_eq!(welcomed, 1);
    }
}
