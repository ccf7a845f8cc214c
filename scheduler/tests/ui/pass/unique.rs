//! `unique`: a key from the whole payload (bare or `true`), from named fields, or none.
#![deny(warnings)]

use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(unique)]
struct Whole {
    user: u32,
    day: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = true, name = "whole_too")]
struct WholeToo {
    user: u32,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "user, day")]
struct Fields {
    user: u32,
    day: String,
    note: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "day")]
struct OneField {
    user: u32,
    day: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "type")]
struct RawField {
    r#type: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = false)]
struct NotUnique {
    user: u32,
}

fn main() {
    let whole = Whole {
        user: 7,
        day: "mon".into(),
    };
    assert_eq!(
        whole.unique_key().as_deref(),
        Some(r#"whole:{"user":7,"day":"mon"}"#)
    );
    assert_eq!(
        WholeToo { user: 1 }.unique_key().as_deref(),
        Some(r#"whole_too:{"user":1}"#)
    );
    let fields = Fields {
        user: 7,
        day: "mon".into(),
        note: "ignored".into(),
    };
    assert_eq!(fields.unique_key().as_deref(), Some(r#"fields:7:"mon""#));
    let one = OneField {
        user: 7,
        day: "tue".into(),
    };
    assert_eq!(one.unique_key().as_deref(), Some(r#"one_field:"tue""#));
    assert_eq!(one.user, 7);
    let raw = RawField { r#type: "x".into() };
    assert_eq!(raw.unique_key().as_deref(), Some(r#"raw_field:"x""#));
    assert_eq!(NotUnique { user: 1 }.unique_key(), None);

    // A key too long for the schema is hashed, never refused.
    let long = Fields {
        user: 1,
        day: "d".repeat(600),
        note: String::new(),
    };
    let key = long.unique_key().unwrap_or_default();
    assert!(key.starts_with("fields:sha256:"), "{key}");
}
