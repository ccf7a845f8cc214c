//! What the attribute values mean, checked against the limits the runtime enforces, so
//! that a type that compiles never fails at registration or enqueue because of them.
//!
//! The result is the [`Job`] model `expand.rs` generates from. Checking goes on past the
//! first error (a bad value is replaced by its default) so every error is reported.

use std::{fmt::Write as _, str::FromStr};

use quote::quote;
use syn::{GenericParam, Ident, LitStr, Member, Path, WhereClause, ext::IdentExt};

use crate::{
    ast::{Field, Input, Shape},
    attr::{Int, Unique},
    case::snake_case,
    ctxt::Ctxt,
    duration,
};

// The runtime's limits (`runloom::store`), repeated here because a proc-macro crate
// cannot depend on the crate it serves.
const MAX_NAME_LEN: usize = 200;
const MAX_PRIORITY: u8 = 100;
const MAX_ATTEMPTS: u32 = 1000;
const MAX_CRON_LEN: usize = 200;
const MAX_QUEUE_LEN: usize = 64;

/// A checked job type, ready to expand.
pub(crate) struct Job<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) where_clause: Option<&'a WhereClause>,
    pub(crate) name: String,
    pub(crate) priority: Option<u8>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) backoff_ms: Option<u64>,
    pub(crate) unique: UniqueKey<'a>,
    pub(crate) cron: Option<String>,
    /// The queue of `queue = "..."`.
    pub(crate) queue: Option<String>,
    /// The state types of `state = "..."`.
    pub(crate) state: Vec<syn::Type>,
    /// What the payload's JSON looks like, when serde's attributes leave it plain.
    pub(crate) payload: Option<PayloadShape>,
    /// Where the runtime crate is (`::runloom` unless `crate = "..."`).
    pub(crate) krate: Path,
}

/// The JSON a plain struct serializes to (no `#[serde]` attribute anywhere on it).
pub(crate) enum PayloadShape {
    /// A unit struct: `null`.
    Null,
    /// A tuple struct of two or more fields: an array of that length.
    Array(usize),
    /// A struct with named fields: an object, with each field's name and whether it
    /// must be present (every field but an `Option`).
    Object(Vec<(String, bool)>),
}

/// How `unique_key` is derived.
pub(crate) enum UniqueKey<'a> {
    None,
    Payload,
    Fields(Vec<&'a Member>),
}

pub(crate) fn check<'a>(cx: &Ctxt, input: &'a Input<'a>) -> Job<'a> {
    let node = input.original;
    let attrs = &input.attrs;
    check_shape(cx, input);
    check_generics(cx, node);
    Job {
        ident: &node.ident,
        where_clause: node.generics.where_clause.as_ref(),
        name: name(cx, input),
        priority: int(cx, attrs.priority.as_ref(), "priority", 0, MAX_PRIORITY),
        max_attempts: int(
            cx,
            attrs.max_attempts.as_ref(),
            "max_attempts",
            1,
            MAX_ATTEMPTS,
        ),
        timeout_ms: duration(cx, attrs.timeout.as_ref(), "timeout", 1),
        backoff_ms: duration(cx, attrs.backoff.as_ref(), "backoff", 0),
        unique: unique(cx, input),
        cron: attrs.cron.as_ref().and_then(|lit| cron(cx, lit)),
        queue: attrs.queue.as_ref().and_then(|lit| queue(cx, lit)),
        state: attrs
            .state
            .as_ref()
            .map(|lit| state(cx, lit))
            .unwrap_or_default(),
        payload: payload_shape(input),
        krate: krate(cx, attrs.krate.as_ref()),
    }
}

/// The payload's shape, when it is plain serde: a `#[serde]` attribute on the struct or
/// a field can rename, default or flatten, and a newtype struct is its field's JSON, so
/// for those no shape is claimed (and nothing is checked).
fn payload_shape(input: &Input<'_>) -> Option<PayloadShape> {
    let Shape::Struct(fields) = &input.shape else {
        return None;
    };
    if input.serde_attrs || fields.iter().any(|f| f.serde_attrs) {
        return None;
    }
    match &input.original.data {
        syn::Data::Struct(data) => match &data.fields {
            syn::Fields::Unit => Some(PayloadShape::Null),
            syn::Fields::Unnamed(_) if fields.len() == 1 => None,
            syn::Fields::Unnamed(_) => Some(PayloadShape::Array(fields.len())),
            syn::Fields::Named(_) => Some(PayloadShape::Object(
                fields
                    .iter()
                    .map(|f| (f.name.clone(), !f.optional))
                    .collect(),
            )),
        },
        _ => None,
    }
}

/// `state = "A, b::C"`: a comma-separated list of at least one type, each once. Whether
/// each is `Send + Sync + 'static` the compiler checks on the generated call.
fn state(cx: &Ctxt, lit: &LitStr) -> Vec<syn::Type> {
    use syn::{Token, punctuated::Punctuated};
    let parser = Punctuated::<syn::Type, Token![,]>::parse_terminated;
    let types: Vec<syn::Type> = match lit.parse_with(parser) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`state` must be a comma-separated list of types, such as \
                     `state = \"Mailer, Config\"`: {e}"
                ),
            );
            return Vec::new();
        }
    };
    if types.is_empty() {
        cx.error_spanned_by(
            lit,
            "`state` names no type: list the types `perform` reads with `ctx.state`, \
             such as `state = \"Mailer, Config\"`, or leave the key out",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for t in &types {
        let text = quote!(#t).to_string();
        if seen.contains(&text) {
            cx.error_spanned_by(lit, format!("`state` names `{text}` twice"));
        }
        seen.push(text);
    }
    types
}

fn check_shape(cx: &Ctxt, input: &Input<'_>) {
    let ident = &input.original.ident;
    let (keyword, kind) = match &input.shape {
        Shape::Struct(_) => return,
        Shape::Enum(token) => (quote!(#token #ident), "enum"),
        Shape::Union(token) => (quote!(#token #ident), "union"),
    };
    let article = if kind == "enum" { "an" } else { "a" };
    cx.error_spanned_by(
        keyword,
        format!(
            "#[derive(Job)] supports structs only, and `{ident}` is {article} {kind}: a job \
             is a struct whose fields are its payload (put the {kind} in a field of one)"
        ),
    );
}

fn check_generics(cx: &Ctxt, node: &syn::DeriveInput) {
    let generics = &node.generics;
    if generics.params.is_empty() {
        return;
    }
    let borrows = generics
        .params
        .iter()
        .all(|p| matches!(p, GenericParam::Lifetime(_)));
    let ident = &node.ident;
    let message = if borrows {
        format!(
            "job types must be concrete, owned types, and `{ident}` has a lifetime \
             parameter: a job is stored and decoded later, so it cannot borrow; own the \
             data instead (`String` rather than `&str`)"
        )
    } else {
        format!(
            "job types must be concrete, owned types, and `{ident}` has generic \
             parameters: a job is stored and decoded by name, so #[derive(Job)] needs a \
             type without `<...>` (derive it on one concrete type per payload)"
        )
    };
    cx.error_spanned_by(generics, message);
}

fn name(cx: &Ctxt, input: &Input<'_>) -> String {
    let ident = &input.original.ident;
    match &input.attrs.name {
        Some(lit) => {
            let name = lit.value();
            if name.is_empty() || name.len() > MAX_NAME_LEN {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "`name` must be 1 to {MAX_NAME_LEN} bytes, and {name:?} is {} bytes",
                        name.len()
                    ),
                );
            }
            name
        }
        None => {
            let name = snake_case(&ident.unraw().to_string());
            if name.len() > MAX_NAME_LEN {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "the default job name (the type's name in snake_case) is longer \
                         than {MAX_NAME_LEN} bytes; give a shorter one with \
                         #[job(name = \"...\")]"
                    ),
                );
            }
            name
        }
    }
}

/// `queue = "mail"`: the rule of `runloom::validate_queue` (1 to 64 bytes of ASCII
/// letters, digits and `_ - . :`).
fn queue(cx: &Ctxt, lit: &LitStr) -> Option<String> {
    let name = lit.value();
    if name.is_empty() || name.len() > MAX_QUEUE_LEN {
        cx.error_spanned_by(
            lit,
            format!(
                "`queue` must be 1 to {MAX_QUEUE_LEN} bytes, and {name:?} is {} bytes",
                name.len()
            ),
        );
        return None;
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
    {
        cx.error_spanned_by(
            lit,
            format!(
                "`queue` may hold ASCII letters, digits and `_ - . :`, and {name:?} holds {c:?}"
            ),
        );
        return None;
    }
    Some(name)
}

/// An integer key's value if it lies in `min..=max`.
fn int<T>(cx: &Ctxt, given: Option<&Int>, key: &str, min: T, max: T) -> Option<T>
where
    T: TryFrom<i128> + Into<i128> + Copy + std::fmt::Display,
{
    let given = given?;
    let in_range = given
        .value
        .filter(|v| (min.into()..=max.into()).contains(v))
        .and_then(|v| T::try_from(v).ok());
    if in_range.is_none() {
        let got = match given.value {
            Some(v) => v.to_string(),
            None => "a number beyond any integer type".to_owned(),
        };
        cx.error_spanned_by(
            &given.tokens,
            format!("`{key}` must be from {min} to {max}, and this is {got}"),
        );
    }
    in_range
}

/// A duration key's value in milliseconds, if it parses and is at least `min_ms`.
fn duration(cx: &Ctxt, given: Option<&LitStr>, key: &str, min_ms: u64) -> Option<u64> {
    let lit = given?;
    let text = lit.value();
    match duration::parse_ms(&text) {
        Ok(ms) if ms >= min_ms => Some(ms),
        Ok(_) => {
            cx.error_spanned_by(
                lit,
                format!("`{key}` must be at least {min_ms} ms, and {text:?} is zero"),
            );
            None
        }
        Err(reason) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{key}` is not a valid duration: {reason} in {text:?}; write numbers \
                     with units, such as \"500ms\", \"30s\", \"1h 30m\" or \"2d\""
                ),
            );
            None
        }
    }
}

fn unique<'a>(cx: &Ctxt, input: &'a Input<'a>) -> UniqueKey<'a> {
    let lit = match &input.attrs.unique {
        None | Some(Unique::Off) => return UniqueKey::None,
        Some(Unique::Payload) => return UniqueKey::Payload,
        Some(Unique::Fields(lit)) => lit,
    };
    let text = lit.value();
    if text.trim().is_empty() {
        cx.error_spanned_by(
            lit,
            "`unique` names no field: name one or more, such as `unique = \"user_id, day\"`, \
             or write `unique` for a key from the whole payload",
        );
        return UniqueKey::None;
    }
    let names: Vec<&str> = text.split(',').map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        cx.error_spanned_by(
            lit,
            format!(
                "`unique` has an empty field name in {text:?}: separate names with single commas"
            ),
        );
        return UniqueKey::None;
    }
    // Only a struct has fields to look up; other shapes are refused already.
    let Shape::Struct(fields) = &input.shape else {
        return UniqueKey::None;
    };
    let mut members = Vec::new();
    let mut ok = true;
    for (i, name) in names.iter().enumerate() {
        let bare = name.strip_prefix("r#").unwrap_or(name);
        if names[..i]
            .iter()
            .any(|n| n.strip_prefix("r#").unwrap_or(n) == bare)
        {
            cx.error_spanned_by(lit, format!("`unique` names the field `{bare}` twice"));
            ok = false;
            continue;
        }
        match fields.iter().find(|f| f.name == bare) {
            Some(f) => members.push(&f.member),
            None => {
                cx.error_spanned_by(lit, no_such_field(&input.original.ident, bare, fields));
                ok = false;
            }
        }
    }
    if ok {
        UniqueKey::Fields(members)
    } else {
        UniqueKey::None
    }
}

fn no_such_field(ident: &Ident, name: &str, fields: &[Field]) -> String {
    let mut message = format!("`unique` names the field `{name}`, but `{ident}` has no such field");
    match fields {
        [] => {
            message.push_str(": it has no fields at all (write `unique` for one key per job type)")
        }
        [only] => {
            let _ = write!(message, "; its only field is `{}`", only.name);
        }
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|f| format!("`{}`", f.name)).collect();
            let _ = write!(
                message,
                "; its fields are {} and `{}`",
                rest.join(", "),
                last.name
            );
        }
    }
    message
}

/// The expression if the runtime's parser accepts it, read exactly as the runtime reads
/// it (`schedule::recurrence`: five fields are a crontab line, run at second 0).
fn cron(cx: &Ctxt, lit: &LitStr) -> Option<String> {
    let expr = lit.value();
    if expr.trim().is_empty() || expr.len() > MAX_CRON_LEN {
        cx.error_spanned_by(
            lit,
            format!(
                "`cron` must be a cron expression of 1 to {MAX_CRON_LEN} bytes, such as \
                 \"*/5 * * * *\" (every 5 minutes)"
            ),
        );
        return None;
    }
    match check_cron(&expr) {
        Ok(()) => Some(expr),
        Err(message) => {
            cx.error_spanned_by(lit, message);
            None
        }
    }
}

/// The error message for an expression the runtime would refuse.
fn check_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    let full = if fields == 5 {
        format!("0 {expr}")
    } else {
        expr.to_owned()
    };
    let Err(e) = cron::Schedule::from_str(&full) else {
        return Ok(());
    };
    let reason = cron_reason(&e.to_string(), &full);
    let mut message = format!(
        "`cron` = {expr:?} is not a valid cron expression: {}",
        reason.strip_suffix('.').unwrap_or(&reason)
    );
    if fields == 5 {
        let _ = write!(
            message,
            " (five fields are a crontab line, read at second 0 as {full:?})"
        );
    } else if !(6..=7).contains(&fields) {
        let _ = write!(
            message,
            "; it has {fields} fields, and a cron expression has 5 (minute, hour, day of \
             month, month, day of week) or 6 to 7 (seconds first, then an optional year \
             last)"
        );
    }
    Err(message)
}

/// The parser's reason, on one line. The `cron` crate draws the input with a caret
/// under the failing position, then explains (sometimes with nothing): keep the
/// explanation, or say where it stopped.
fn cron_reason(message: &str, parsed: &str) -> String {
    let mut lines = message.lines();
    let (input, caret) = (lines.next(), lines.next());
    let explanation = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let column = match (input, caret) {
        (Some(input), Some(caret)) if input == parsed && caret.trim() == "^" => caret.find('^'),
        _ => None,
    };
    match column {
        Some(_) if !explanation.is_empty() => explanation,
        Some(col) => format!("the parser stopped at character {} of {parsed:?}", col + 1),
        None => message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn krate(cx: &Ctxt, given: Option<&LitStr>) -> Path {
    let default = || syn::parse_quote!(::runloom);
    let Some(lit) = given else {
        return default();
    };
    match lit.parse_with(Path::parse_mod_style) {
        Ok(path) => path,
        Err(e) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`crate` must be the path of the runloom crate, such as \"::runloom\" \
                     or \"my_crate::runloom\", and {:?} is not a path: {e}",
                    lit.value()
                ),
            );
            default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_is_read_as_the_runtime_reads_it() {
        for ok in [
            "*/5 * * * *",
            "0 */5 * * * *",
            "30 0 2 * * Mon-Fri 2030",
            "@daily",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn cron_errors_keep_the_parsers_reason() {
        for (expr, parts) in [
            (
                "61 * * * *",
                &[
                    "\"61 * * * *\" is not a valid cron expression: Minutes must be less than 59.",
                    "read at second 0 as \"0 61 * * * *\"",
                ][..],
            ),
            (
                "0 */0 * * * *",
                &["cron expression: range step cannot be zero"][..],
            ),
            (
                "* * *",
                &[
                    "the parser stopped at character 6 of \"* * *\"",
                    "it has 3 fields",
                ][..],
            ),
        ] {
            let message = check_cron(expr).err().unwrap_or_default();
            assert!(!message.contains('\n'), "{message}");
            for part in parts {
                assert!(message.contains(part), "{message:?} lacks {part:?}");
            }
        }
    }
}
