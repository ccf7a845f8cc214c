//! The bad-input catalogue: every bad input gets a typed error and changes nothing, and
//! property tests throw random cron strings, payloads and options at the scheduler.

mod common;

use std::time::Duration;

use common::{
    T0, TestDb, builder,
    jobs::{Double, Noop, Unregistered},
};
use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use runloom::{
    EnqueueOptions, Error, NewDependency, RunId, ScheduleSpec, Scheduler,
    store::{Store, StoreOptions},
};

/// Everything a user can see of the work in the database: runs, tasks, edges, leases.
fn fingerprint(s: &Scheduler) -> String {
    let runloom::store::Location::File(path) = s.store().options().location() else {
        panic!("a file database");
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT (SELECT coalesce(group_concat(id || ':' || status || ':' || attempt || ':' || payload, ','), '') FROM task_runs)
             || '|' || (SELECT coalesce(group_concat(id || ':' || name || ':' || version, ','), '') FROM tasks)
             || '|' || (SELECT coalesce(group_concat(downstream_id || '>' || upstream_id, ','), '') FROM task_dependencies)
             || '|' || (SELECT count(*) FROM task_locks)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Asserts that `f` fails with an error `expected` accepts and changes nothing.
fn refused<T: std::fmt::Debug>(
    s: &Scheduler,
    what: &str,
    f: impl FnOnce() -> Result<T, Error>,
    expected: impl Fn(&Error) -> bool,
) {
    let before = fingerprint(s);
    match f() {
        Ok(v) => panic!("{what}: accepted ({v:?})"),
        Err(e) => {
            assert!(expected(&e), "{what}: unexpected error {e:?}");
            assert!(!e.to_string().is_empty());
        }
    }
    assert_eq!(
        fingerprint(s),
        before,
        "{what}: the refusal changed the database"
    );
}

fn scheduler(db: &TestDb) -> Scheduler {
    builder(db)
        .max_payload_bytes(4096)
        .register::<Double>()
        .register::<Noop>()
        .start()
        .unwrap()
}

#[test]
fn every_bad_input_gets_a_typed_error_and_changes_nothing() {
    let db = TestDb::new();
    let s = scheduler(&db);
    // Some state to protect.
    let existing = s
        .enqueue_with(Noop, EnqueueOptions::new().delay(Duration::from_secs(3600)))
        .unwrap()
        .id;
    let other = s
        .enqueue_with(Noop, EnqueueOptions::new().delay(Duration::from_secs(3600)))
        .unwrap()
        .id;
    s.add_dependencies(&[NewDependency::new(other, existing)])
        .unwrap();

    refused(
        &s,
        "unknown job type",
        || s.enqueue(Unregistered),
        |e| matches!(e, Error::UnknownJobType(_)),
    );
    refused(
        &s,
        "unknown job type by name",
        || s.enqueue_json("nope", "{}", EnqueueOptions::new()),
        |e| matches!(e, Error::UnknownJobType(_)),
    );
    refused(
        &s,
        "payload that does not deserialize",
        || s.enqueue_json("double", r#"{"value":"x"}"#, EnqueueOptions::new()),
        |e| matches!(e, Error::Payload { .. }),
    );
    refused(
        &s,
        "payload that is not JSON",
        || s.enqueue_json("double", "{value: 1", EnqueueOptions::new()),
        |e| matches!(e, Error::Payload { .. }),
    );
    refused(
        &s,
        "payload over the size limit",
        || {
            s.enqueue_json(
                "double",
                &format!(r#"{{"value":1,"pad":"{}"}}"#, "x".repeat(5000)),
                EnqueueOptions::new(),
            )
        },
        |e| matches!(e, Error::PayloadTooLarge { limit: 4096, .. }),
    );
    refused(
        &s,
        "invalid cron",
        || s.schedule("c", Noop, ScheduleSpec::cron("*/0 * * *")),
        |e| matches!(e, Error::InvalidCron { expr, .. } if expr == "*/0 * * *"),
    );
    refused(
        &s,
        "unknown time zone",
        || {
            s.schedule(
                "c",
                Noop,
                ScheduleSpec::cron("0 * * * *").time_zone("Moon/Base"),
            )
        },
        |e| matches!(e, Error::UnknownTimeZone(_)),
    );
    refused(
        &s,
        "cyclic dependency",
        || s.add_dependencies(&[NewDependency::new(existing, other)]),
        |e| matches!(e, Error::DependencyCycle { .. }),
    );
    refused(
        &s,
        "self dependency",
        || s.add_dependencies(&[NewDependency::new(existing, existing)]),
        |e| matches!(e, Error::SelfDependency(_)),
    );
    refused(
        &s,
        "cycle in a batch",
        || {
            let mut b = s.batch();
            let x = b.add(Noop)?;
            let y = b.add(Noop)?;
            b.depends_on(x, y)?.depends_on(y, x)?;
            b.submit()
        },
        |e| matches!(e, Error::InvalidBatch { .. }),
    );
    refused(
        &s,
        "dependency on an unknown run",
        || s.add_dependencies(&[NewDependency::new(existing, RunId::new(999_999))]),
        |e| matches!(e, Error::UnknownDependency(_)),
    );
    for (what, opts, name) in [
        (
            "priority above 100",
            EnqueueOptions::new().priority(101),
            "priority",
        ),
        (
            "priority overflowing",
            EnqueueOptions::new().priority(u8::MAX),
            "priority",
        ),
        (
            "zero attempts",
            EnqueueOptions::new().max_attempts(0),
            "max_attempts",
        ),
        (
            "attempts overflowing",
            EnqueueOptions::new().max_attempts(u32::MAX),
            "max_attempts",
        ),
        (
            "zero timeout",
            EnqueueOptions::new().timeout(Duration::ZERO),
            "timeout",
        ),
        (
            "timeout overflowing",
            EnqueueOptions::new().timeout(Duration::MAX),
            "timeout",
        ),
        (
            "delay overflowing",
            EnqueueOptions::new().delay(Duration::MAX),
            "delay",
        ),
        (
            "backoff overflowing",
            EnqueueOptions::new().backoff(Duration::MAX),
            "backoff",
        ),
        (
            "time and delay",
            EnqueueOptions::new().at(T0).delay(Duration::from_secs(1)),
            "delay",
        ),
        (
            "empty unique key",
            EnqueueOptions::new().unique_key(""),
            "unique_key",
        ),
    ] {
        refused(
            &s,
            what,
            || s.enqueue_with(Double { value: 1 }, opts.clone()),
            |e| matches!(e, Error::InvalidArgument { name: n, .. } if *n == name),
        );
    }
    refused(
        &s,
        "misfire cap zero",
        || s.schedule("c", Noop, ScheduleSpec::cron("0 * * * *").misfire_cap(0)),
        |e| {
            matches!(
                e,
                Error::InvalidArgument {
                    name: "misfire_cap",
                    ..
                }
            )
        },
    );
    refused(
        &s,
        "cancel of an unknown run",
        || s.cancel(RunId::new(424_242)),
        |e| matches!(e, Error::RunNotFound(_)),
    );
    refused(
        &s,
        "retry of an unknown run",
        || s.retry(RunId::new(424_242)),
        |e| matches!(e, Error::RunNotFound(_)),
    );
    refused(
        &s,
        "retry of a pending run",
        || s.retry(existing),
        |e| matches!(e, Error::InvalidRunState { .. }),
    );
    refused(
        &s,
        "empty token id",
        || s.revoke_token("", T0),
        |e| matches!(e, Error::InvalidArgument { .. }),
    );

    // Registration and opening refusals write nothing either (see migrations.rs for
    // each refusal proven byte for byte).
    let err = builder(&TestDb::new())
        .register::<Noop>()
        .register::<Noop>()
        .start()
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateJobType(_)));
}

#[test]
fn the_schema_refuses_negative_and_out_of_range_values_from_any_writer() {
    let db = TestDb::new();
    drop(db.open());
    let conn = db.raw();
    for (what, sql) in [
        (
            "negative priority",
            "INSERT INTO task_runs (job_type, payload, priority, scheduled_at, created_at) VALUES ('t', '{}', -1, 0, 0)",
        ),
        (
            "priority above 100",
            "INSERT INTO task_runs (job_type, payload, priority, scheduled_at, created_at) VALUES ('t', '{}', 101, 0, 0)",
        ),
        (
            "zero attempts",
            "INSERT INTO task_runs (job_type, payload, max_attempts, scheduled_at, created_at) VALUES ('t', '{}', 0, 0, 0)",
        ),
        (
            "negative timeout",
            "INSERT INTO task_runs (job_type, payload, timeout_ms, scheduled_at, created_at) VALUES ('t', '{}', -5, 0, 0)",
        ),
        (
            "unknown status",
            "INSERT INTO task_runs (job_type, payload, status, scheduled_at, created_at) VALUES ('t', '{}', 'lost', 0, 0)",
        ),
        (
            "payload not JSON",
            "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at) VALUES ('t', '{', 0, 0)",
        ),
        (
            "text where a number goes",
            "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at) VALUES ('t', '{}', 'soon', 0)",
        ),
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            err.contains("CHECK") || err.contains("cannot store"),
            "{what}: {err}"
        );
    }
    let n: i64 = conn
        .query_row("SELECT count(*) FROM task_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn random_cron_strings_are_parsed_or_refused_but_never_crash() {
    let db = TestDb::new();
    let s = scheduler(&db);
    let before = fingerprint(&s);
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let strings = prop_oneof![
        any::<String>(),
        "[0-9*/,\\- ]{0,30}",
        proptest::collection::vec("[0-9*/,\\-]{1,6}", 1..8).prop_map(|f| f.join(" ")),
    ];
    runner
        .run(&strings, |expr| {
            // Disabled, so an accepted schedule never fires while the test looks.
            match s.schedule(
                "prop",
                Noop,
                ScheduleSpec::cron(expr.clone()).enabled(false),
            ) {
                Ok(task) => {
                    // Valid: its fire times move forward.
                    let times = s.next_fire_times("prop", 3).unwrap();
                    prop_assert!(times.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(s.unschedule("prop").unwrap());
                    let _ = task;
                }
                Err(Error::InvalidCron { expr: e, message }) => {
                    prop_assert_eq!(e, expr);
                    prop_assert!(!message.is_empty());
                }
                Err(Error::InvalidArgument { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            Ok(())
        })
        .unwrap();
    // Refusals wrote nothing; accepted schedules were removed (soft delete keeps rows, so
    // compare only the runs).
    assert_eq!(fingerprint(&s).split('|').next(), before.split('|').next());
}

/// Any JSON value.
fn json_values() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn random_payloads_round_trip_or_are_refused_whole() {
    let db = TestDb::new();
    let s = builder(&db)
        .allow_foreign_job_types(true)
        .max_payload_bytes(2048)
        .start()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    runner
        .run(&json_values(), |value| {
            let text = value.to_string();
            let before = fingerprint(&s);
            match s.enqueue_json(
                "elsewhere",
                &text,
                EnqueueOptions::new().delay(Duration::from_secs(3600)),
            ) {
                Ok(ins) => {
                    prop_assert!(text.len() <= 2048);
                    // Stored verbatim: the same text comes back.
                    prop_assert_eq!(s.run(ins.id).unwrap().payload, text);
                }
                Err(Error::PayloadTooLarge { size, .. }) => {
                    prop_assert!(size > 2048);
                    prop_assert_eq!(fingerprint(&s), before);
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            Ok(())
        })
        .unwrap();
    runner
        .run(&any::<String>(), |text| {
            let before = fingerprint(&s);
            let valid = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            match s.enqueue_json("elsewhere", &text, EnqueueOptions::new()) {
                Ok(_) => prop_assert!(valid, "accepted non-JSON {text:?}"),
                Err(Error::Payload { .. }) => {
                    prop_assert!(!valid);
                    prop_assert_eq!(fingerprint(&s), before);
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_newer_schema_and_a_changed_migration_are_refused() {
    let db = TestDb::new();
    drop(Store::open(StoreOptions::file(&db.path)).unwrap());
    let conn = db.raw();
    conn.execute(
        "UPDATE scheduler_migrations SET checksum = ? WHERE version = 1",
        ["a".repeat(64)],
    )
    .unwrap();
    assert!(matches!(
        Store::open(db.options()).unwrap_err(),
        Error::ChecksumMismatch { version: 1, .. }
    ));
    drop(conn);
    let db = TestDb::new();
    drop(db.open());
    db.raw()
        .execute(
            "INSERT INTO scheduler_migrations VALUES (99, 'later', ?, 0, 0)",
            ["b".repeat(64)],
        )
        .unwrap();
    assert!(matches!(
        Store::open(db.options()).unwrap_err(),
        Error::SchemaTooNew { database: 99, .. }
    ));
}
