use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(backoff = "999999999999d")]
struct SendEmail {
    to: String,
}

fn main() {}
