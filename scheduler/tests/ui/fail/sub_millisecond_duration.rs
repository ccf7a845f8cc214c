use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "500us")]
struct SendEmail {
    to: String,
}

fn main() {}
