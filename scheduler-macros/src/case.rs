//! The default job name: the type's name in snake_case.

/// `SendEmail` → `send_email`, `HTTPFetch` → `http_fetch`, `V2Job` → `v2_job`.
///
/// A word starts at an uppercase letter that follows a lowercase letter or a digit, or
/// that ends a run of capitals and begins a capitalised word (the `F` of `HTTPFetch`),
/// which keeps acronyms in one word. An existing underscore is never doubled.
pub(crate) fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let starts_word = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) => p.is_uppercase() && next.is_some_and(char::is_lowercase),
            };
            if starts_word {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn words_and_acronyms() {
        for (ident, name) in [
            ("SendEmail", "send_email"),
            ("HTTPFetch", "http_fetch"),
            ("Fetch", "fetch"),
            ("A", "a"),
            ("ABC", "abc"),
            ("FetchHTTP", "fetch_http"),
            ("ParseURLNow", "parse_url_now"),
            ("V2Job", "v2_job"),
            ("Job2", "job2"),
            ("already_snake", "already_snake"),
            ("Send_Email", "send_email"),
            ("Ünïcode", "ünïcode"),
        ] {
            assert_eq!(snake_case(ident), name, "{ident}");
        }
    }
}
