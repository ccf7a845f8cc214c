use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "90")]
struct SendEmail {
    to: String,
}

fn main() {}
