//! The job name: the type's name in snake_case unless `name` gives one; a type with no
//! attribute keeps every default of the trait.
#![deny(warnings)]

use runloom::{Job, JobOptions};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
struct SendEmail {
    to: String,
}

#[derive(Serialize, Deserialize, Job)]
struct HTTPFetch {
    url: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job(name = "mailer.send")]
struct Named {
    to: String,
}

#[derive(Serialize, Deserialize, Job)]
#[job()]
struct r#Raw {}

fn main() {
    assert_eq!(<SendEmail as Job>::NAME, "send_email");
    assert_eq!(<HTTPFetch as Job>::NAME, "http_fetch");
    assert_eq!(<Named as Job>::NAME, "mailer.send");
    assert_eq!(<Raw as Job>::NAME, "raw");

    assert_eq!(<SendEmail as Job>::options(), JobOptions::new());
    assert_eq!(<SendEmail as Job>::default_schedule(), None);
    let job = SendEmail {
        to: "a@example.com".into(),
    };
    assert_eq!(job.unique_key(), None);
    let _ = (
        &job.to,
        HTTPFetch { url: String::new() }.url,
        Named { to: String::new() }.to,
    );
}
