use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "to, user")]
struct SendEmail {
    to: String,
    subject: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(unique = "2")]
struct Pair(u32, u32);

fn main() {}
