use runloom::Job;
use serde::{Deserialize, Serialize};

// Every mistake is reported in one compilation: first those of form (unknown key,
// wrong kind of value, duplicate), then those of meaning (range, duration, field, cron).
#[derive(Serialize, Deserialize, Job)]
#[job(nmae = "x", priority = 500, timeout = "soon")]
#[job(max_attempts = "3", cron = "* * *", unique = "nope")]
#[job(priority = 1, backoff = "1x")]
struct SendEmail {
    to: String,
}

fn main() {
    // No error here: the type still implements `Job`.
    let _ = <SendEmail as Job>::NAME;
}
