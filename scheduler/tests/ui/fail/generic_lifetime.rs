use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
struct Borrowed<'a> {
    to: &'a str,
}

fn main() {
    let _ = Borrowed { to: "x" }.to;
}
