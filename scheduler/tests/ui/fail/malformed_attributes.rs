use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job]
#[job = "send_email"]
#[job(priority)]
#[job(timeout("30s"),, "name" = 1)]
struct SendEmail {
    #[job(unique)]
    to: String,
}

fn main() {}
