use runloom::Job;
use serde::{Deserialize, Serialize};

struct Mailer;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Mailr")]
struct NoSuchType;

fn main() {
    let _ = Mailer;
}
