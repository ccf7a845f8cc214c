use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "61 * * * *")]
struct FiveFields;

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "0 0 25 * * *")]
struct SixFields;

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "every day")]
struct NotCron;

fn main() {}
