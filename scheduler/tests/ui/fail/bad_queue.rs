use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(queue = "")]
struct Empty;

#[derive(Serialize, Deserialize, Job)]
#[job(queue = "two words")]
struct Space;

#[derive(Serialize, Deserialize, Job)]
#[job(queue = "a-queue-name-that-is-far-too-long-to-be-one-the-runtime-accepts-at-all")]
struct TooLong;

#[derive(Serialize, Deserialize, Job)]
#[job(queue = mail)]
struct NotAString;

#[derive(Serialize, Deserialize, Job)]
#[job(queue)]
struct NoValue;

fn main() {}
