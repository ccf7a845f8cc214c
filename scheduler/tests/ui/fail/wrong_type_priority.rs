use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(priority = "high")]
struct SendEmail {
    to: String,
}

fn main() {}
