//! `queue` becomes the type's default queue, kept with the other options.
#![deny(warnings)]

use runloom::{Job, JobOptions};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(queue = "mail")]
struct Welcome;

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 5, queue = "billing.eu-1:slow_2")]
struct Invoice;

#[derive(Serialize, Deserialize, Job)]
struct Plain;

fn main() {
    assert_eq!(<Welcome as Job>::options(), JobOptions::new().queue("mail"));
    assert_eq!(
        <Invoice as Job>::options(),
        JobOptions::new().priority(5).queue("billing.eu-1:slow_2")
    );
    assert_eq!(<Plain as Job>::options().queue, None, "the default queue");
    for options in [<Welcome as Job>::options(), <Invoice as Job>::options()] {
        options
            .validate()
            .expect("the runtime accepts what the macro accepts");
    }
}
