use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 101)]
struct High;

#[derive(Serialize, Deserialize, Job)]
#[job(priority = -1)]
struct Negative;

fn main() {}
