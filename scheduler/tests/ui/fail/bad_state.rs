use std::rc::Rc;

use runloom::Job;
use serde::{Deserialize, Serialize};

struct Mailer;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "")]
struct Empty;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Mailer Mailer")]
struct NotAList;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Mailer, Mailer")]
struct Twice;

#[derive(Serialize, Deserialize, Job)]
#[job(state = Mailer)]
struct NotAString;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Rc<Mailer>")]
struct NotShareable;

fn main() {
    let _ = Rc::new(Mailer);
}
