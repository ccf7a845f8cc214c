use runloom::Job;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(priority = 5)]
enum Command {
    Start,
    Stop,
}

fn main() {
    // The stand-in impl keeps uses of the type free of further errors.
    let _ = <Command as Job>::NAME;
    let _ = (Command::Start, Command::Stop);
}
