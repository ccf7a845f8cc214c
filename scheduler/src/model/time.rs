//! How the model represents time: whole milliseconds since the Unix epoch, the form
//! every time takes in the database, with conversions that refuse what does not fit
//! instead of wrapping.

use std::time::Duration;

use time::OffsetDateTime;

use super::ValueError;

/// Milliseconds since the Unix epoch: the representation of every time in the database.
pub(crate) use crate::clock::to_ms;

/// The inverse of [`to_ms`]; refuses values outside the calendar `time` supports.
pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime, ValueError> {
    crate::clock::at_ms(ms).map_err(|e| {
        ValueError::corrupt(
            "timestamp",
            format!("{ms} ms since the epoch is out of range: {e}"),
        )
    })
}

/// A duration in whole milliseconds, refusing durations that do not fit.
pub(crate) fn duration_ms(name: &'static str, d: Duration) -> Result<i64, ValueError> {
    i64::try_from(d.as_millis())
        .map_err(|_| ValueError::invalid(name, format!("{d:?} is too large")))
}

/// `now + d` in milliseconds, refusing overflow.
pub(crate) fn add_ms(name: &'static str, now: i64, d: Duration) -> Result<i64, ValueError> {
    let d = duration_ms(name, d)?;
    now.checked_add(d)
        .filter(|t| from_ms(*t).is_ok())
        .ok_or_else(|| ValueError::invalid(name, "the resulting time is out of range"))
}

/// `t` moved by `d` forward (or back), clamped to the calendar instead of panicking.
pub(crate) fn shift(t: OffsetDateTime, d: Duration, forward: bool) -> OffsetDateTime {
    let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let ms = if forward {
        to_ms(t).saturating_add(d)
    } else {
        to_ms(t).saturating_sub(d)
    };
    from_ms(ms).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn millisecond_round_trip_is_exact() {
        let t = datetime!(2026-03-29 01:59:59.123 UTC);
        assert_eq!(from_ms(to_ms(t)).unwrap(), t);
        let before_epoch = datetime!(1969-12-31 23:59:59.999 UTC);
        assert_eq!(to_ms(before_epoch), -1);
        assert_eq!(from_ms(-1).unwrap(), before_epoch);
    }

    #[test]
    fn add_refuses_overflow() {
        assert!(add_ms("delay", i64::MAX - 5, Duration::from_millis(10)).is_err());
        assert!(add_ms("delay", 0, Duration::from_secs(u64::MAX)).is_err());
        assert_eq!(add_ms("delay", 10, Duration::from_millis(5)).unwrap(), 15);
    }
}
