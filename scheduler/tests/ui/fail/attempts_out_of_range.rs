use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(max_attempts = 0)]
struct Zero;

#[derive(Serialize, Deserialize, Job)]
#[job(max_attempts = 1001)]
struct TooMany;

fn main() {}
