//! Every foreign type in a public signature can be named through `runloom` itself, so a
//! user never adds a matching version of a crate by hand: this file compiles only if
//! each is re-exported (time, the event channel, JSON values, SQLite's and PostgreSQL's
//! clients, the tokio handle). A new foreign type in the API belongs on this list.
#![cfg(all(feature = "postgres", feature = "tokio"))]

use runloom::{
    Event, Run, crossbeam_channel::Receiver, postgres::postgres, serde_json::Value,
    sqlite::rusqlite, time::OffsetDateTime, tokio::Handle,
};

/// Names each type at the place a public signature hands it over.
#[allow(dead_code)]
fn signatures(
    s: &runloom::Scheduler,
    run: &Run,
    tx: &rusqlite::Transaction<'_>,
    pg: &mut postgres::Transaction<'_>,
    handle: Handle,
) -> (Receiver<Event>, Option<Value>, OffsetDateTime) {
    let _ = (tx, pg, handle);
    (
        s.subscribe(1),
        run.result_json().ok().flatten(),
        run.created_at,
    )
}

#[test]
fn the_re_exports_are_the_versions_the_signatures_use() {
    // The JSON of a stored payload is runloom::serde_json's Value.
    let v: Value = runloom::serde_json::from_str(r#"{"a":1}"#).unwrap();
    assert_eq!(v["a"], 1);
    let now: OffsetDateTime = runloom::Clock::now(&runloom::SystemClock);
    assert!(now.year() >= 2024);
}
