//! Parsing of `#[job(...)]`: which keys were given, each once, with a value of its kind.
//!
//! Only the form is checked here; what the values mean (ranges, durations, cron, field
//! names) is for `valid.rs`. Values keep their tokens, so a later error still points at
//! what the user wrote. A mistake in one key never stops the others from being read:
//! each item between commas is parsed on its own, and every error goes to the
//! [`Ctxt`].

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, Ident, Lit, LitBool, LitStr, Meta, Token, ext::IdentExt, parse::ParseStream};

use crate::ctxt::Ctxt;

/// The name of the attribute.
pub(crate) const JOB: &str = "job";

/// A key of `#[job(...)]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Name,
    Priority,
    MaxAttempts,
    Timeout,
    Backoff,
    Unique,
    Cron,
    State,
    Queue,
    Crate,
}

impl Key {
    const ALL: [Key; 10] = [
        Key::Name,
        Key::Priority,
        Key::MaxAttempts,
        Key::Timeout,
        Key::Backoff,
        Key::Unique,
        Key::Cron,
        Key::State,
        Key::Queue,
        Key::Crate,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Priority => "priority",
            Key::MaxAttempts => "max_attempts",
            Key::Timeout => "timeout",
            Key::Backoff => "backoff",
            Key::Unique => "unique",
            Key::Cron => "cron",
            Key::State => "state",
            Key::Queue => "queue",
            Key::Crate => "crate",
        }
    }

    fn from_ident(ident: &Ident) -> Option<Key> {
        let text = ident.unraw().to_string();
        Key::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What the key takes, as the end of a sentence that starts with the key.
    fn expects(self) -> &'static str {
        match self {
            Key::Name => "must be a string, such as `name = \"send_email\"`",
            Key::Priority => "must be an integer from 0 to 100, such as `priority = 10`",
            Key::MaxAttempts => "must be an integer from 1 to 1000, such as `max_attempts = 5`",
            Key::Timeout => "must be a duration string, such as `timeout = \"30s\"`",
            Key::Backoff => "must be a duration string, such as `backoff = \"5m\"`",
            Key::Unique => {
                "must be `true`, `false` or a string of field names, such as \
                 `unique = \"user_id, day\"`"
            }
            Key::Cron => {
                "must be a string holding a cron expression, such as `cron = \"0 */5 * * *\"`"
            }
            Key::State => {
                "must be a string of the type names `perform` reads with `ctx.state`, such \
                 as `state = \"Mailer, Config\"`"
            }
            Key::Queue => "must be a string naming a queue, such as `queue = \"mail\"`",
            Key::Crate => "must be a string holding a path, such as `crate = \"::runloom\"`",
        }
    }
}

/// `name`, `priority`, ... and `crate`, for messages.
fn known_keys() -> String {
    let keys: Vec<String> = Key::ALL
        .iter()
        .map(|k| format!("`{}`", k.as_str()))
        .collect();
    match keys.split_last() {
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The keys given on one type, merged from all its `#[job]` attributes.
#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) priority: Option<Int>,
    pub(crate) max_attempts: Option<Int>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) backoff: Option<LitStr>,
    pub(crate) unique: Option<Unique>,
    pub(crate) cron: Option<LitStr>,
    pub(crate) state: Option<LitStr>,
    pub(crate) queue: Option<LitStr>,
    pub(crate) krate: Option<LitStr>,
}

/// An integer literal, possibly negated.
pub(crate) struct Int {
    /// Its value; `None` when it does not even fit in an `i128` (so it is out of range).
    pub(crate) value: Option<i128>,
    /// What the user wrote, for spans.
    pub(crate) tokens: TokenStream,
}

/// The `unique` key.
pub(crate) enum Unique {
    /// `unique` or `unique = true`: from the whole payload.
    Payload,
    /// `unique = false`.
    Off,
    /// `unique = "a, b"`: from these fields (not yet checked).
    Fields(LitStr),
}

/// A value after `=`, classified by its kind.
enum Value {
    Str(LitStr),
    Int(Int),
    Bool(LitBool),
    Other,
}

impl Attrs {
    /// Reads every `#[job]` attribute of the type; errors go to `cx`.
    pub(crate) fn from_syn(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = Attrs::default();
        let mut seen: Vec<Key> = Vec::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident(JOB)) {
            let Meta::List(list) = &attr.meta else {
                cx.error_spanned_by(
                    attr,
                    "expected `#[job(key = value, ...)]`, such as \
                     `#[job(name = \"send_email\", max_attempts = 5)]`",
                );
                continue;
            };
            if !matches!(list.delimiter, syn::MacroDelimiter::Paren(_)) {
                cx.error_spanned_by(attr, "expected parentheses: `#[job(key = value, ...)]`");
                continue;
            }
            let parsed = list.parse_args_with(|input: ParseStream<'_>| {
                for_each_item(cx, input, |item| out.item(cx, &mut seen, item))
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        }
        out
    }

    /// Takes one `key` or `key = value` item.
    fn item(&mut self, cx: &Ctxt, seen: &mut Vec<Key>, item: Vec<TokenTree>) {
        let mut tokens = item.into_iter();
        let Some(TokenTree::Ident(ident)) = tokens.next() else {
            cx.error_spanned_by(
                stream(tokens),
                format!(
                    "expected a key such as `name = \"...\"`; the keys are {}",
                    known_keys()
                ),
            );
            return;
        };
        let Some(key) = Key::from_ident(&ident) else {
            cx.error_spanned_by(
                &ident,
                format!(
                    "unknown key `{}` in #[job(...)]; the keys are {}",
                    ident.unraw(),
                    known_keys()
                ),
            );
            return;
        };
        if seen.contains(&key) {
            cx.error_spanned_by(
                &ident,
                format!(
                    "duplicate key `{}`: each #[job] key may be given once (across all \
                     #[job] attributes of the type)",
                    key.as_str()
                ),
            );
            return;
        }
        seen.push(key);

        let rest: Vec<TokenTree> = tokens.collect();
        let value = match rest.split_first() {
            None => None,
            Some((TokenTree::Punct(eq), value)) if eq.as_char() == '=' => {
                if value.is_empty() {
                    let mut span = ident.to_token_stream();
                    span.extend([TokenTree::Punct(eq.clone())]);
                    cx.error_spanned_by(span, format!("`{}` {}", key.as_str(), key.expects()));
                    return;
                }
                Some(value)
            }
            Some(_) => {
                cx.error_spanned_by(
                    stream(rest),
                    format!(
                        "expected `=` after `{}`: write `{} = value`",
                        key.as_str(),
                        key.as_str()
                    ),
                );
                return;
            }
        };

        let Some(value) = value else {
            // A bare key: only `unique` means something without a value.
            if key == Key::Unique {
                self.unique = Some(Unique::Payload);
            } else {
                cx.error_spanned_by(
                    &ident,
                    format!("`{}` needs a value: it {}", key.as_str(), key.expects()),
                );
            }
            return;
        };

        let wrong = || {
            cx.error_spanned_by(
                stream(value.to_vec()),
                format!("`{}` {}", key.as_str(), key.expects()),
            );
        };
        match (key, classify(value)) {
            (Key::Name, Value::Str(s)) => self.name = Some(s),
            (Key::Timeout, Value::Str(s)) => self.timeout = Some(s),
            (Key::Backoff, Value::Str(s)) => self.backoff = Some(s),
            (Key::Cron, Value::Str(s)) => self.cron = Some(s),
            (Key::State, Value::Str(s)) => self.state = Some(s),
            (Key::Queue, Value::Str(s)) => self.queue = Some(s),
            (Key::Crate, Value::Str(s)) => self.krate = Some(s),
            (Key::Priority, Value::Int(n)) => self.priority = Some(n),
            (Key::MaxAttempts, Value::Int(n)) => self.max_attempts = Some(n),
            (Key::Unique, Value::Bool(b)) => {
                self.unique = Some(if b.value {
                    Unique::Payload
                } else {
                    Unique::Off
                });
            }
            (Key::Unique, Value::Str(s)) => self.unique = Some(Unique::Fields(s)),
            _ => wrong(),
        }
    }
}

/// Calls `f` on the items between top-level commas, as tokens (a comma inside brackets
/// belongs to its group). An empty item (`a,,b`) is reported and skipped.
fn for_each_item(
    cx: &Ctxt,
    input: ParseStream<'_>,
    mut f: impl FnMut(Vec<TokenTree>),
) -> syn::Result<()> {
    while !input.is_empty() {
        let mut item = Vec::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            item.push(input.parse::<TokenTree>()?);
        }
        if item.is_empty() {
            let comma: Token![,] = input.parse()?;
            cx.error_spanned_by(comma, "expected a key before this comma");
            continue;
        }
        f(item);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// The kind of a value: one literal, `true`/`false`, or a negated integer.
fn classify(tokens: &[TokenTree]) -> Value {
    match tokens {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => {
            // A value passed through a `macro_rules!` fragment arrives wrapped in an
            // invisible group.
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            classify(&inner)
        }
        [single] => match syn::parse2::<Lit>(single.to_token_stream()) {
            Ok(Lit::Str(s)) => Value::Str(s),
            Ok(Lit::Bool(b)) => Value::Bool(b),
            Ok(Lit::Int(i)) => Value::Int(Int {
                value: i.base10_parse::<i128>().ok(),
                tokens: single.to_token_stream(),
            }),
            _ => Value::Other,
        },
        [TokenTree::Punct(minus), lit]
            if minus.as_char() == '-' && minus.spacing() == Spacing::Alone =>
        {
            match syn::parse2::<Lit>(lit.to_token_stream()) {
                Ok(Lit::Int(i)) => Value::Int(Int {
                    value: i.base10_parse::<i128>().ok().map(|v| -v),
                    tokens: stream(tokens.to_vec()),
                }),
                _ => Value::Other,
            }
        }
        _ => Value::Other,
    }
}

fn stream(tokens: impl IntoIterator<Item = TokenTree>) -> TokenStream {
    tokens.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(attrs: TokenStream) -> (Attrs, Vec<String>) {
        let input: syn::DeriveInput = syn::parse2(quote!(#attrs struct S;)).unwrap();
        let cx = Ctxt::new();
        let parsed = Attrs::from_syn(&cx, &input.attrs);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (parsed, errors)
    }

    #[test]
    fn keys_are_merged_across_attributes() {
        let (a, errors) = parse(quote! {
            #[job(name = "x", priority = 10)]
            #[job(max_attempts = -3, timeout = "1s", backoff = "2s")]
            #[job(unique = "a, b", cron = "* * * * *", crate = "::s")]
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(a.name.map(|s| s.value()).as_deref(), Some("x"));
        assert_eq!(a.priority.and_then(|n| n.value), Some(10));
        assert_eq!(a.max_attempts.and_then(|n| n.value), Some(-3));
        assert!(matches!(a.unique, Some(Unique::Fields(s)) if s.value() == "a, b"));
        assert_eq!(a.krate.map(|s| s.value()).as_deref(), Some("::s"));
    }

    #[test]
    fn unique_forms() {
        for (attr, payload) in [
            (quote!(#[job(unique)]), Some(true)),
            (quote!(#[job(unique = true)]), Some(true)),
            (quote!(#[job(unique = false)]), Some(false)),
        ] {
            let (a, errors) = parse(attr);
            assert!(errors.is_empty(), "{errors:?}");
            let got = match a.unique {
                Some(Unique::Payload) => Some(true),
                Some(Unique::Off) => Some(false),
                _ => None,
            };
            assert_eq!(got, payload);
        }
    }

    #[test]
    fn every_mistake_is_reported() {
        let (_, errors) = parse(quote! {
            #[job(nmae = "x", priority = "high", priority = 1, name, timeout(1),, 7)]
            #[job]
            #[job(cron =)]
        });
        let expected = [
            "unknown key `nmae`",
            "`priority` must be an integer",
            "duplicate key `priority`",
            "`name` needs a value",
            "expected `=` after `timeout`",
            "expected a key before this comma",
            "expected a key such as",
            "expected `#[job(key = value, ...)]`",
            "`cron` must be a string",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (e, start) in errors.iter().zip(expected) {
            assert!(e.starts_with(start), "{e:?} should start with {start:?}");
        }
        assert!(errors[0].contains("`name`, `priority`"), "{}", errors[0]);
    }
}
