//! The `#[derive(Job)]` macro of the `runloom` crate.
//!
//! Use it through `runloom`, which re-exports it beside the `Job` trait (feature
//! `derive`, on by default); the generated code refers to `::runloom` and needs nothing
//! imported. The attributes are documented on [`macro@Job`].
//!
//! The crate is laid out like serde_derive and thiserror: `ast` reads the input, `attr`
//! parses `#[job(...)]`, `valid` checks the values and builds the model that `expand`
//! turns into code, and `fallback` stands in when there are errors. Every error goes to
//! a `ctxt::Ctxt`, so one compilation reports all of them.

mod ast;
mod attr;
mod case;
mod ctxt;
mod duration;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;

/// Implements `runloom::Job` for a struct (named fields, tuple or unit) from its
/// `#[job(...)]` attributes. It implements only `Job`: the work itself is an
/// `impl Perform`, and the payload encoding is serde's (derive `Serialize` and
/// `Deserialize` as well).
///
/// Every key is optional; several `#[job]` attributes are merged, and a key may appear
/// only once in all of them.
///
/// | key | value | effect |
/// | --- | --- | --- |
/// | `name = "send_email"` | string, 1 to 200 bytes | `Job::NAME`; defaults to the struct's name in snake_case (`SendEmail` → `send_email`, `HTTPFetch` → `http_fetch`) |
/// | `priority = 10` | integer 0 to 100 | default priority (higher runs first) |
/// | `max_attempts = 5` | integer 1 to 1000 | default attempts |
/// | `timeout = "30s"` | duration, at least 1 ms | default timeout of one attempt |
/// | `backoff = "5m"` | duration | default backoff base |
/// | `unique`, `unique = true` | | unique key from the whole payload |
/// | `unique = "a, b"` | field names (`"0"`, `"1"` for a tuple struct) | unique key from those fields |
/// | `unique = false` | | no unique key (the default) |
/// | `cron = "0 */5 * * * *"` | cron expression, 5 fields or 6 to 7 with seconds first | `Job::default_schedule`, used by `Scheduler::schedule_default` |
/// | `queue = "mail"` | 1 to 64 bytes of ASCII letters, digits and `_ - . :` | default queue (a process runs the queues it lists) |
/// | `crate = "path"` | path | where the `runloom` crate is, for a renamed or re-exported dependency; defaults to `::runloom` |
///
/// A duration is written in the `humantime` crate's grammar, the one the operator CLI
/// reads too: numbers with units, parts summed, decimals allowed, a whole number of
/// milliseconds: `"500ms"`, `"30s"`, `"1.5min"`, `"1h 30m"`, `"2d"`.
///
/// Everything is checked at compile time, cron expressions with the parser the runtime
/// uses, and every mistake is reported at once, at the attribute that causes it. Enums,
/// unions and generic types (type, lifetime or const parameters) are refused: a job's
/// payload is stored and read back later, so its type must be concrete and owned.
#[proc_macro_derive(Job, attributes(job))]
pub fn derive_job(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
