//! `crate = "..."` re-points the runtime path, for a crate that reaches `runloom`
//! through a re-export.
#![deny(warnings)]

use serde::{Deserialize, Serialize};

mod runtime {
    pub use ::runloom::__private;
}

#[derive(Serialize, Deserialize, runloom::Job)]
#[job(crate = "crate::runtime", priority = 3, unique)]
struct Reexported {
    n: u8,
}

fn main() {
    use runloom::Job;
    assert_eq!(<Reexported as Job>::NAME, "reexported");
    assert_eq!(
        <Reexported as Job>::options(),
        runloom::JobOptions::new().priority(3)
    );
    assert_eq!(
        Reexported { n: 1 }.unique_key().as_deref(),
        Some(r#"reexported:{"n":1}"#)
    );
}
