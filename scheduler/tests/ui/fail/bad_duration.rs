use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "1h 30m")]
struct SendEmail {
    to: String,
}

fn main() {}
