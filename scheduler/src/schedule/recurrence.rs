//! When a schedule fires: cron expressions (in UTC or a named time zone) and fixed
//! intervals, and the one place where the `cron` crate's chrono times meet the `time`
//! types used everywhere else.
//!
//! Daylight saving, stated once: a local time that does not exist (the clock jumps from
//! 02:00 to 03:00) is **skipped**; a local time that occurs twice (the clock goes back)
//! fires **once**, at its first instant. So `0 30 2 * * *` does not fire on the day the
//! clocks spring forward, and `0 30 1 * * *` fires once on the day they fall back.

use std::{str::FromStr, time::Duration};

use chrono::{DateTime, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;
use time::OffsetDateTime;

use crate::{
    error::{Error, Result},
    model,
    model::time::{from_ms, to_ms},
};

/// A parsed schedule.
#[derive(Clone, Debug)]
pub(crate) enum Recurrence {
    Cron {
        schedule: Box<cron::Schedule>,
        tz: Tz,
    },
    Every(Duration),
}

impl Recurrence {
    /// Parses a cron expression: 5 fields (standard crontab: minute resolution) or 6-7
    /// fields (seconds first, optional year), evaluated in `tz` (UTC when `None`).
    pub(crate) fn cron(expr: &str, tz: Option<&str>) -> Result<Self> {
        let fields = expr.split_whitespace().count();
        let full = if fields == 5 {
            format!("0 {expr}")
        } else {
            expr.to_owned()
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| Error::InvalidCron {
            expr: expr.to_owned(),
            message: e.to_string(),
        })?;
        let tz = match tz {
            None => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| Error::UnknownTimeZone(name.to_owned()))?,
        };
        Ok(Recurrence::Cron {
            schedule: Box::new(schedule),
            tz,
        })
    }

    /// A fixed interval (at least 1 ms).
    pub(crate) fn every(d: Duration) -> Result<Self> {
        if crate::model::time::duration_ms("interval", d)? < 1 {
            return Err(Error::invalid("interval", "must be at least 1 ms"));
        }
        Ok(Recurrence::Every(d))
    }

    /// The recurrence of a stored schedule, if it has one.
    pub(crate) fn of(schedule: &model::Schedule) -> Result<Option<Self>> {
        Ok(match schedule {
            model::Schedule::None => None,
            model::Schedule::Cron { expr, timezone } => {
                Some(Self::cron(expr, timezone.as_deref())?)
            }
            model::Schedule::Interval(d) => Some(Self::every(*d)?),
        })
    }

    /// The first occurrence strictly after `t`. For an interval, `t` must be on the
    /// schedule's grid (an occurrence), and the answer is `t + interval`.
    pub(crate) fn step(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Recurrence::Every(d) => add(t, *d),
            Recurrence::Cron { schedule, tz } => {
                let from = to_zone(t, tz)?;
                // The crate yields a repeated local time twice: both collapse to its
                // first instant, which may lie before `t` (when `t` is in the second
                // pass of the repeated hour): walk on to the first instant after `t`.
                schedule
                    .after(&from)
                    .map(canonical)
                    .find(|n| *n > from)
                    .and_then(from_zone)
            }
        }
    }

    /// The first occurrence at or after `t`, given an occurrence `anchor` at or before
    /// `t` (intervals are a grid from the anchor; cron ignores it).
    pub(crate) fn first_at_or_after(
        &self,
        anchor: OffsetDateTime,
        t: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        match self {
            Recurrence::Every(d) => {
                let step = i128::from(crate::model::time::duration_ms("interval", *d).ok()?);
                let gap = i128::from(to_ms(t)) - i128::from(to_ms(anchor));
                let k = if gap <= 0 { 0 } else { (gap + step - 1) / step };
                from_ms(i64::try_from(i128::from(to_ms(anchor)) + k * step).ok()?).ok()
            }
            Recurrence::Cron { .. } => {
                let just_before = from_ms(to_ms(t).checked_sub(1)?).ok()?;
                self.step(just_before)
            }
        }
    }

    /// The occurrences in `[from, until)`, oldest first, at most the `cap` latest of them.
    /// `from` is an occurrence.
    pub(crate) fn latest_in(
        &self,
        from: OffsetDateTime,
        until: OffsetDateTime,
        cap: usize,
    ) -> Vec<OffsetDateTime> {
        let mut out = Vec::new();
        if until <= from || cap == 0 {
            return out;
        }
        match self {
            Recurrence::Every(d) => {
                let Ok(step) = crate::model::time::duration_ms("interval", *d) else {
                    return out;
                };
                let step = i128::from(step);
                let span = i128::from(to_ms(until)) - i128::from(to_ms(from)) - 1;
                let last_k = span / step;
                let first_k = (last_k + 1 - i128::try_from(cap).unwrap_or(i128::MAX)).max(0);
                for k in first_k..=last_k {
                    if let Ok(ms) = i64::try_from(i128::from(to_ms(from)) + k * step) {
                        if let Ok(t) = from_ms(ms) {
                            out.push(t);
                        }
                    }
                }
            }
            Recurrence::Cron { schedule, tz } => {
                let Some(end) = to_zone(until, tz) else {
                    return out;
                };
                let Some(start) = to_zone(from, tz) else {
                    return out;
                };
                // Walk back from `until`; an ambiguous time comes back twice (its later
                // instant first): both collapse to the earlier one.
                for t in schedule.after(&end).rev() {
                    if t < start {
                        break;
                    }
                    let Some(t) = from_zone(canonical(t)) else {
                        continue;
                    };
                    if t >= from && t < until && out.last() != Some(&t) {
                        out.push(t);
                        if out.len() == cap {
                            break;
                        }
                    }
                }
                out.reverse();
                out.dedup();
            }
        }
        out
    }
}

fn add(t: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    crate::model::time::add_ms("interval", to_ms(t), d)
        .ok()
        .and_then(|ms| from_ms(ms).ok())
}

/// `time` → `chrono` in the schedule's zone (the single conversion point).
fn to_zone(t: OffsetDateTime, tz: &Tz) -> Option<DateTime<Tz>> {
    Utc.timestamp_millis_opt(to_ms(t))
        .single()
        .map(|u| u.with_timezone(tz))
}

/// `chrono` → `time`.
fn from_zone(t: DateTime<Tz>) -> Option<OffsetDateTime> {
    from_ms(t.timestamp_millis()).ok()
}

/// The first instant of a local time that occurs twice; any other time unchanged.
fn canonical(t: DateTime<Tz>) -> DateTime<Tz> {
    match t.timezone().from_local_datetime(&t.naive_local()) {
        LocalResult::Ambiguous(earlier, _) => earlier,
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn cron(expr: &str, tz: &str) -> Recurrence {
        Recurrence::cron(expr, Some(tz)).unwrap()
    }

    #[test]
    fn five_fields_mean_minute_resolution_and_six_take_seconds() {
        let r = Recurrence::cron("30 1 * * *", None).unwrap();
        assert_eq!(
            r.step(datetime!(2026-05-01 00:00 UTC)),
            Some(datetime!(2026-05-01 01:30 UTC))
        );
        let r = Recurrence::cron("*/15 * * * * *", None).unwrap();
        assert_eq!(
            r.step(datetime!(2026-05-01 00:00:01 UTC)),
            Some(datetime!(2026-05-01 00:00:15 UTC))
        );
    }

    #[test]
    fn parse_errors_keep_the_expression_and_the_parsers_message() {
        match Recurrence::cron("0 61 * * * *", None).unwrap_err() {
            Error::InvalidCron { expr, message } => {
                assert_eq!(expr, "0 61 * * * *");
                assert!(message.contains("Minutes"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Recurrence::cron("0 0 * * * *", Some("Mars/Olympus_Mons")),
            Err(Error::UnknownTimeZone(ref z)) if z == "Mars/Olympus_Mons"
        ));
    }

    #[test]
    fn a_local_time_in_the_spring_gap_is_skipped() {
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
        let r = cron("0 30 2 * * *", "America/New_York");
        let before = datetime!(2026-03-07 12:00 UTC);
        let first = r.step(before).unwrap();
        assert_eq!(
            first,
            datetime!(2026-03-09 06:30 UTC),
            "02:30 EDT on the 9th, the 8th skipped"
        );
        // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        let r = cron("0 30 2 * * *", "Europe/Paris");
        assert_eq!(
            r.step(datetime!(2026-03-28 12:00 UTC)),
            Some(datetime!(2026-03-30 00:30 UTC))
        );
    }

    #[test]
    fn a_repeated_local_time_fires_once_at_its_first_instant() {
        // New York, 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:30 happens twice.
        let r = cron("0 30 1 * * *", "America/New_York");
        let first = r.step(datetime!(2026-10-31 12:00 UTC)).unwrap();
        assert_eq!(first, datetime!(2026-11-01 05:30 UTC), "01:30 EDT");
        let second = r.step(first).unwrap();
        assert_eq!(
            second,
            datetime!(2026-11-02 06:30 UTC),
            "next day 01:30 EST, not 01:30 EST today"
        );
        // Walking back over the same day collapses the two instants into the first.
        let missed = r.latest_in(
            datetime!(2026-10-31 05:30 UTC),
            datetime!(2026-11-01 12:00 UTC),
            10,
        );
        assert_eq!(
            missed,
            vec![
                datetime!(2026-10-31 05:30 UTC),
                datetime!(2026-11-01 05:30 UTC)
            ]
        );
    }

    #[test]
    fn every_minute_skips_the_second_pass_of_the_repeated_hour() {
        let r = cron("0 * * * * *", "America/New_York");
        // 01:59 EDT is followed by 02:00 EST, an hour and a minute later.
        let t = r.step(datetime!(2026-11-01 05:58:30 UTC)).unwrap();
        assert_eq!(t, datetime!(2026-11-01 05:59 UTC));
        assert_eq!(r.step(t), Some(datetime!(2026-11-01 07:00 UTC)));
    }

    #[test]
    fn intervals_are_a_grid_from_their_anchor() {
        let r = Recurrence::every(Duration::from_secs(10)).unwrap();
        let a = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(r.step(a), Some(datetime!(2026-01-01 00:00:10 UTC)));
        assert_eq!(
            r.first_at_or_after(a, datetime!(2026-01-01 00:00:25 UTC)),
            Some(datetime!(2026-01-01 00:00:30 UTC))
        );
        assert_eq!(
            r.first_at_or_after(a, datetime!(2026-01-01 00:00:30 UTC)),
            Some(datetime!(2026-01-01 00:00:30 UTC))
        );
        assert_eq!(
            r.latest_in(a, datetime!(2026-01-01 00:01 UTC), 3),
            vec![
                datetime!(2026-01-01 00:00:30 UTC),
                datetime!(2026-01-01 00:00:40 UTC),
                datetime!(2026-01-01 00:00:50 UTC)
            ]
        );
        assert!(Recurrence::every(Duration::ZERO).is_err());
    }

    #[test]
    fn cron_latest_in_caps_and_orders() {
        let r = Recurrence::cron("0 0 * * * *", None).unwrap();
        let v = r.latest_in(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-01-01 10:00 UTC),
            3,
        );
        assert_eq!(
            v,
            vec![
                datetime!(2026-01-01 07:00 UTC),
                datetime!(2026-01-01 08:00 UTC),
                datetime!(2026-01-01 09:00 UTC)
            ]
        );
        let all = r.latest_in(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-01-01 03:00 UTC),
            100,
        );
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], datetime!(2026-01-01 00:00 UTC));
    }
}
