use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "0ms")]
struct SendEmail {
    to: String,
}

fn main() {}
