//! `state`: the application state a job type reads, by type path, checked at start.
#![deny(warnings)]

use runloom::{Job, StateType};
use serde::{Deserialize, Serialize};

mod app {
    pub struct Pool;
}
struct Mailer;
struct Limits<T>(T);

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Mailer")]
struct One;

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Mailer, app::Pool, Limits<u32>,")]
struct Several;

#[derive(Serialize, Deserialize, Job)]
struct NoState;

fn main() {
    let _ = (app::Pool, Mailer, Limits(0_u32).0);
    assert_eq!(<One as Job>::required_state(), vec![StateType::of::<Mailer>()]);
    assert_eq!(
        <Several as Job>::required_state(),
        vec![
            StateType::of::<Mailer>(),
            StateType::of::<app::Pool>(),
            StateType::of::<Limits<u32>>(),
        ]
    );
    assert!(<NoState as Job>::required_state().is_empty());
}
