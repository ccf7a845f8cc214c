//! Security properties that a test can hold the code to: SQL only from the files of
//! `sql/` with bound parameters (never built from input), and bounded buffers. (The
//! 0600 mode of the database files is tested in `connections.rs`, the token blacklist
//! at and after expiry in `maintenance.rs`.)

mod common;

use std::{fs, path::Path, time::Duration};

use common::{TestDb, builder, jobs::Double, wait_for};
use runloom::RunStatus;

/// The library's sources, without their `#[cfg(test)]` modules.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&p).unwrap();
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
                out.push((p.display().to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    assert!(out.len() > 20, "the scan found the sources");
    out
}

/// The string literals of one line of code (comments dropped).
fn literals(line: &str) -> Vec<String> {
    let code = match line.trim_start().starts_with("//") {
        true => return Vec::new(),
        false => line,
    };
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            let mut lit = String::new();
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    other => lit.push(other),
                }
            }
            out.push(lit);
        }
    }
    out
}

#[test]
fn no_sql_text_lives_in_the_rust_code() {
    let keywords = [
        "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", " WHERE ", " FROM ",
        "PRAGMA ",
    ];
    let mut found = Vec::new();
    for (file, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            for lit in literals(line) {
                if keywords
                    .iter()
                    .any(|k| lit.to_uppercase().contains(k) && lit.contains(k))
                {
                    found.push(format!("{file}:{}: {lit:?}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL text outside sql/:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_statement_comes_from_the_sql_files() {
    // Calls that take SQL text must be given an embedded file (`sql::NAME`) or a
    // migration's script, never something built at run time.
    let mut found = Vec::new();
    for (file, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            // Doc examples show a user's own SQL on their own connection (a lock held
            // by another program, say); they are not statements the runtime runs.
            let trimmed = line.trim_start();
            if trimmed.starts_with("///") || trimmed.starts_with("//!") {
                continue;
            }
            // The PostgreSQL transaction's own calls (`PgTx::query` and the rest) take
            // the `&'static str` of an `sql::` constant, checked here like the others.
            for call in [
                "prepare_cached(",
                ".prepare(",
                "execute_batch(",
                "batch_execute(",
                "self.query(",
                "self.query_opt(",
                "self.query_one(",
                "self.execute(",
            ] {
                let mut rest = line;
                while let Some(i) = rest.find(call) {
                    let arg = rest[i + call.len()..].trim_start();
                    let ok = arg.starts_with("sql::")
                        || arg.starts_with("super::sql::")
                        || arg.starts_with("&m.up")
                        || arg.starts_with("&m.down")
                        || arg.starts_with("query)")
                        || arg.starts_with("query,")
                        // PgTx::prepared, the one place PgTx prepares what it is given.
                        || arg.starts_with("sql)")
                        // View::query() maps each view to its sql:: constant.
                        || arg.starts_with("view.query()")
                        || arg.starts_with("view_sql(view)")
                        || arg.is_empty();
                    if !ok {
                        found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                    }
                    rest = &rest[i + call.len()..];
                }
            }
        }
    }
    assert!(found.is_empty(), "SQL not from sql/:\n{}", found.join("\n"));
}

#[test]
fn a_slow_event_subscriber_misses_events_instead_of_growing_a_buffer() {
    let db = TestDb::new();
    let s = builder(&db).register::<Double>().start().unwrap();
    let rx = s.subscribe(4);
    let ids = s
        .enqueue_many((0..50).map(|value| Double { value }))
        .unwrap();
    for i in &ids {
        assert!(wait_for(Duration::from_secs(15), || s
            .run(i.id)
            .unwrap()
            .status
            == RunStatus::Completed));
    }
    assert!(rx.len() <= 4, "the subscriber's channel holds {}", rx.len());
    assert!(s.stats().unwrap().events_dropped > 0);
    // The scheduler did all the work regardless.
    assert_eq!(s.stats().unwrap().counts.completed, 50);
}
