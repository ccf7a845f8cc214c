//! `priority`, `max_attempts`, `timeout` and `backoff` become the type's default options.
#![deny(warnings)]

use std::time::Duration;

use runloom::{Job, JobOptions};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 10, max_attempts = 5, timeout = "30s", backoff = "5m")]
struct All;

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 0)]
#[job(max_attempts = 1000, timeout = "1h30m", backoff = "0s")]
struct Limits;

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 100, max_attempts = 1, timeout = "500ms", backoff = "2d1ms")]
struct Other;

#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "1ms")]
struct TimeoutOnly;

fn main() {
    assert_eq!(
        <All as Job>::options(),
        JobOptions::new()
            .priority(10)
            .max_attempts(5)
            .timeout(Duration::from_secs(30))
            .backoff(Duration::from_secs(300))
    );
    assert_eq!(
        <Limits as Job>::options(),
        JobOptions::new()
            .priority(0)
            .max_attempts(1000)
            .timeout(Duration::from_secs(5400))
            .backoff(Duration::ZERO)
    );
    assert_eq!(
        <Other as Job>::options(),
        JobOptions::new()
            .priority(100)
            .max_attempts(1)
            .timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(2 * 86_400_000 + 1))
    );
    assert_eq!(
        <TimeoutOnly as Job>::options(),
        JobOptions::new().timeout(Duration::from_millis(1))
    );
    for options in [
        <All as Job>::options(),
        <Limits as Job>::options(),
        <Other as Job>::options(),
        <TimeoutOnly as Job>::options(),
    ] {
        options
            .validate()
            .expect("the runtime accepts what the macro accepts");
    }
}
