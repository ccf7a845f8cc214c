//! Durations written as strings in `#[job(timeout = "30s", backoff = "1h30m")]`.

/// The largest duration the runtime stores: it keeps milliseconds in an SQLite integer
/// (`i64`), so a larger value would compile and then fail every enqueue.
pub(crate) const MAX_MS: u64 = i64::MAX as u64;

/// Parses one or more `<integer><unit>` parts (units `ms`, `s`, `m`, `h`, `d`) into
/// milliseconds. The error is a short reason, to be put after the value in a message.
pub(crate) fn parse_ms(text: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let letters = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(letters);
        if number.is_empty() {
            return Err(match (unit.is_empty(), after.chars().next()) {
                (false, _) => format!("`{unit}` has no number before it"),
                (true, Some(c)) if c.is_whitespace() => "it contains a space".to_owned(),
                (true, Some(c)) => format!("`{c}` is not allowed"),
                (true, None) => "it is empty".to_owned(),
            });
        }
        let per_unit: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(match after.chars().next() {
                    Some(c) if c.is_whitespace() => "it contains a space".to_owned(),
                    Some(c) => format!("`{c}` is not allowed"),
                    None => format!("`{number}` has no unit"),
                });
            }
            other => return Err(format!("`{other}` is not a unit")),
        };
        // More digits than u128 holds is beyond MAX_MS anyway.
        let n: u128 = number.parse().map_err(|_| too_large())?;
        total = n
            .checked_mul(per_unit)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(too_large)?;
        rest = after;
    }
    u64::try_from(total)
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
            ("5m", 300_000),
            ("2h", 7_200_000),
            ("2d", 172_800_000),
            ("1h30m", 5_400_000),
            ("1m30s250ms", 90_250),
            ("007s", 7_000),
            ("9223372036854775807ms", MAX_MS),
        ] {
            assert_eq!(parse_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (text, reason) in [
            ("", "it is empty"),
            ("30", "`30` has no unit"),
            ("1h30", "`30` has no unit"),
            ("5x", "`x` is not a unit"),
            ("5sec", "`sec` is not a unit"),
            ("5S", "`S` is not a unit"),
            ("ms", "`ms` has no number before it"),
            ("1h 30m", "it contains a space"),
            (" 1s", "it contains a space"),
            ("-1s", "`-` is not allowed"),
            ("1.5s", "`.` is not allowed"),
            ("30 s", "it contains a space"),
        ] {
            assert_eq!(parse_ms(text), Err(reason.to_owned()), "{text}");
        }
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        for text in [
            "9223372036854775808ms",
            "106751991168d",
            "99999999999999999999999999999999999999999999d",
            "9223372036854775807ms1ms",
        ] {
            assert!(
                parse_ms(text).is_err_and(|e| e.contains("longer")),
                "{text}"
            );
        }
    }
}
