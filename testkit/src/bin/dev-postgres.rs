//! A PostgreSQL server for development, from this machine's installed server binaries:
//! `cargo run -p runloom-testkit --bin dev-postgres`. It prints a URL for the scheduler,
//! the CLI and `psql`, and runs until Enter or Ctrl-C; its data lives in a temporary
//! folder and goes with it. Nothing to install beyond the `postgresql` package, no
//! configuration, nothing left running.

use std::io::BufRead as _;

use runloom_testkit::postgres::{Server, server_binaries_found};

fn main() {
    if !server_binaries_found() {
        eprintln!(
            "no PostgreSQL server binaries found: install the `postgresql` package (or set \
             RUNLOOM_PG_BIN to a folder holding initdb and postgres)"
        );
        std::process::exit(1);
    }
    // Durable as a real server is (every commit flushed), on loopback only.
    let Some(server) = Server::start_with(&["127.0.0.1"], None, true) else {
        std::process::exit(1);
    };
    server.create_db("jobs");
    println!("PostgreSQL is up, with an empty database `jobs`:");
    println!();
    println!("  postgres://postgres@127.0.0.1:5432/jobs");
    println!();
    println!("  RUNLOOM_DB=postgres://postgres@127.0.0.1:5432/jobs cargo run --example quickstart");
    println!("  psql postgres://postgres@127.0.0.1:5432/jobs");
    println!();
    println!("Press Enter (or Ctrl-C) to stop it; its data goes with it.");
    let _ = std::io::stdin().lock().lines().next();
    drop(server);
}
