use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 1, name = "a", name = "b")]
#[job(priority = 2)]
struct SendEmail {
    to: String,
}

fn main() {}
