//! Recurring tasks and what happens to the occurrences missed while no scheduler ran.
//!
//! Three schedules fire every minute, one per misfire policy, and one fires at 09:00 in
//! Paris. The program moves a manual clock through a few minutes, stops the scheduler
//! (the "downtime"), moves the clock an hour on, starts again, and shows what each
//! policy did with the sixty missed minutes. It uses its own database file
//! (`./cron_example.db`, recreated at each run), because its clock is simulated.
//!
//! ```text
//! cargo run --example cron
//! ```

use std::{sync::Arc, time::Duration};

use runloom::{
    Clock, Job, JobContext, JobError, ManualClock, MisfirePolicy, Perform, RunFilter, ScheduleSpec,
    Scheduler,
};
use serde::{Deserialize, Serialize};
use time::macros::datetime;

#[derive(Serialize, Deserialize, Job)]
struct Tick {
    schedule: String,
}

impl Perform for Tick {
    type Output = ();
    fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

const DB: &str = "cron_example.db";

fn start(clock: &Arc<ManualClock>) -> Result<Scheduler, runloom::Error> {
    Scheduler::builder()
        .database(DB)
        .clock(clock.clone())
        .poll_interval(Duration::from_millis(10))
        .register::<Tick>()
        .start()
}

/// Scheduled times of each schedule's runs, as `HH:MM` strings.
fn occurrences(s: &Scheduler, name: &str) -> Result<Vec<String>, runloom::Error> {
    let task = s
        .schedules()?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| runloom::Error::TaskNameNotFound(name.to_owned()))?;
    let mut times: Vec<_> = s
        .runs(&RunFilter::new().task(task.id).limit(1000))?
        .into_iter()
        .map(|r| r.scheduled_at)
        .collect();
    times.sort();
    Ok(times
        .iter()
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .collect())
}

/// Moves the clock and waits until the dispatcher has created (and run) what became
/// due by then.
fn move_to(
    s: &Scheduler,
    clock: &ManualClock,
    to: time::OffsetDateTime,
) -> Result<(), runloom::Error> {
    clock.set(to);
    s.notify();
    s.wait_idle(Duration::from_secs(10))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DB}{suffix}"));
    }
    let t0 = datetime!(2026-03-27 07:58:30 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let policies = [
        ("every-minute-run-once", MisfirePolicy::RunOnce),
        ("every-minute-run-all", MisfirePolicy::RunAll),
        ("every-minute-skip", MisfirePolicy::Skip),
    ];
    let before = {
        let s = start(&clock)?;
        for (name, policy) in policies {
            s.schedule(
                name,
                Tick {
                    schedule: name.into(),
                },
                ScheduleSpec::cron("* * * * *")
                    .misfire(policy)
                    .misfire_cap(10),
            )?;
        }
        s.schedule(
            "paris-nine",
            Tick {
                schedule: "paris-nine".into(),
            },
            ScheduleSpec::cron("0 9 * * *").time_zone("Europe/Paris"),
        )?;
        println!("clock at {}; schedules registered", clock.now().time());
        // Just before each minute (occurrences are created a second ahead), then just
        // after it, as a real clock would pass.
        for minute in 1..=3 {
            let at = t0 + Duration::from_secs(60 * minute - 30);
            move_to(&s, &clock, at - Duration::from_millis(500))?;
            move_to(&s, &clock, at + Duration::from_secs(1))?;
        }
        println!("after three minutes, each every-minute schedule ran at:");
        for (name, _) in policies {
            println!("  {name:<22} {}", occurrences(&s, name)?.join(" "));
        }
        let before: Vec<usize> = policies
            .iter()
            .map(|(name, _)| occurrences(&s, name).map(|o| o.len()))
            .collect::<Result<_, runloom::Error>>()?;
        let paris = s.next_fire_times("paris-nine", 3)?;
        let shown: Vec<String> = paris
            .iter()
            .map(|t| format!("{} {}Z", t.date(), t.time()))
            .collect();
        println!(
            "paris-nine fires next at {} (09:00 in Paris; the clocks change on 29 March)",
            shown.join(", ")
        );
        s.shutdown(Duration::from_secs(5))?;
        before
    };

    // An hour without any scheduler: sixty occurrences of each schedule are missed.
    clock.set(t0 + Duration::from_secs(60 * 63 + 20));
    println!(
        "\n-- down for an hour; clock now at {} --\n",
        clock.now().time()
    );
    let s = start(&clock)?;
    move_to(&s, &clock, clock.now())?;
    for ((name, policy), earlier) in policies.iter().zip(&before) {
        let after: Vec<String> = occurrences(&s, name)?.split_off(*earlier);
        println!(
            "  {name:<22} {:<8} {} run(s) for the missed hour: {}",
            format!("{policy:?}:"),
            after.len(),
            after.join(" ")
        );
    }
    println!(
        "\nrun once: one run for the whole gap; run all: the latest 10 (the cap); skip: none."
    );
    for (name, _) in policies {
        s.unschedule(name)?;
    }
    s.unschedule("paris-nine")?;
    s.shutdown(Duration::from_secs(5))?;
    Ok(())
}
