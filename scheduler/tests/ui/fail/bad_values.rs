use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(name = "", unique = "", crate = "not a path")]
struct Empty {
    to: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "to, to", max_attempts = 1.5, cron = 5)]
struct Twice {
    to: String,
}

fn main() {}
