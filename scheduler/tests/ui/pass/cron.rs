//! `cron`: a default schedule, 5 fields (crontab) or 6 to 7 (seconds first).
#![deny(warnings)]

use runloom::{Job, ScheduleSpec};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "*/5 * * * *")]
struct Five;

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "0 */5 * * * *")]
struct Six;

#[derive(Serialize, Deserialize, Job)]
#[job(cron = "30 0 2 * * Mon-Fri 2030")]
struct Seven;

#[derive(Serialize, Deserialize, Job)]
struct NoSchedule;

fn main() {
    assert_eq!(
        <Five as Job>::default_schedule(),
        Some(ScheduleSpec::cron("*/5 * * * *"))
    );
    assert_eq!(
        <Six as Job>::default_schedule(),
        Some(ScheduleSpec::cron("0 */5 * * * *"))
    );
    assert_eq!(
        <Seven as Job>::default_schedule(),
        Some(ScheduleSpec::cron("30 0 2 * * Mon-Fri 2030"))
    );
    assert_eq!(<NoSchedule as Job>::default_schedule(), None);
}
