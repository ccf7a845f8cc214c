//! Durations written as strings in `#[job(timeout = "30s", backoff = "1h 30m")]`, in the
//! grammar of the `humantime` crate, which the operator CLI reads too (`--delay 90s`):
//! numbers with units (`ms`, `s`/`sec`, `m`/`min`, `h`, `d`, `w` … and their long
//! names), several parts summed, spaces allowed, decimals allowed (`1.5s`).

/// The largest duration the runtime stores: it keeps milliseconds in an SQLite integer
/// (`i64`), so a larger value would compile and then fail every enqueue.
pub(crate) const MAX_MS: u64 = i64::MAX as u64;

/// Parses a duration into milliseconds. The error is a short reason, to be put after
/// the value in a message.
pub(crate) fn parse_ms(text: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(text).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => too_large(),
        humantime::DurationError::Empty => "it is empty".to_owned(),
        other => other.to_string(),
    })?;
    if d.subsec_nanos() % 1_000_000 != 0 {
        return Err(
            "it is not a whole number of milliseconds (the scheduler stores \
                    milliseconds)"
                .to_owned(),
        );
    }
    u64::try_from(d.as_millis())
        .ok()
        .filter(|ms| *ms <= MAX_MS)
        .ok_or_else(too_large)
}

fn too_large() -> String {
    format!("it is longer than the longest duration the scheduler stores ({MAX_MS} ms)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums() {
        for (text, ms) in [
            ("500ms", 500),
            ("0s", 0),
            ("30s", 30_000),
            ("30sec", 30_000),
            ("5m", 300_000),
            ("5min", 300_000),
            ("2h", 7_200_000),
            ("2d", 172_800_000),
            ("1w", 604_800_000),
            ("1h30m", 5_400_000),
            ("1h 30m", 5_400_000),
            ("1.5s", 1_500),
            ("1m30s250ms", 90_250),
            ("007s", 7_000),
            ("36500d", 3_153_600_000_000),
        ] {
            assert_eq!(parse_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (text, reason) in [
            ("", "it is empty"),
            ("30", "time unit needed"),
            ("1h30", "time unit needed"),
            ("5x", "unknown time unit \"x\""),
            ("ms", "expected number"),
            ("-1s", "expected number"),
            ("500us", "not a whole number of milliseconds"),
        ] {
            let got = parse_ms(text);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(reason)),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        for text in [
            "9223372036854775808ms",
            "106751991168d",
            "99999999999999999999999999999999999999999999d",
            "9223372036854775807ms 1ms",
        ] {
            assert!(
                parse_ms(text).is_err_and(|e| e.contains("longer")),
                "{text}"
            );
        }
    }
}
