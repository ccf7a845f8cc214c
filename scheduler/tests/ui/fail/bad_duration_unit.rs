use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(backoff = "5fortnights")]
struct SendEmail {
    to: String,
}

fn main() {}
