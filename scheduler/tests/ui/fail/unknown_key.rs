use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(nmae = "send_email")]
struct SendEmail {
    to: String,
}

fn main() {}
