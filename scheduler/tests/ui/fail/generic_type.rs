use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(name = "wrapper")]
struct Wrapper<T> {
    inner: T,
}

fn main() {
    let _ = <Wrapper<u32> as Job>::NAME;
}
