//! Items used by the code `#[derive(Job)]` generates. Not part of the public API: they
//! may change in any release.

use crate::model::MAX_UNIQUE_KEY_LEN;

/// The unique key of a derived job: `name:part:part…`, where each part is the JSON of a
/// field (or of the whole job). A key longer than the schema allows is replaced by
/// `name:sha256:<hex of the full key>`, so any payload can derive a key.
#[must_use]
pub fn unique_key(name: &str, parts: &[String]) -> String {
    let mut key = String::from(name);
    for p in parts {
        key.push(':');
        key.push_str(p);
    }
    if key.len() <= MAX_UNIQUE_KEY_LEN {
        return key;
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    format!("{name}:sha256:{hex}")
}

/// The JSON text of a value, for a unique key part. A value that cannot be serialized
/// gives an empty part (the job itself then fails to enqueue with a payload error).
#[must_use]
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub use core::{option::Option, time::Duration};
pub use std::{string::String, vec, vec::Vec};

pub use crate::{Job, JobOptions, PayloadShape, ScheduleSpec, StateType};

/// `Job`'s supertraits, named by the stand-in impl the derive emits next to its errors
/// (so a type with a bad `#[job]` attribute gets no further error of its own).
pub use serde::{Serialize, de::DeserializeOwned};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_readable_until_too_long_then_hashed() {
        assert_eq!(
            unique_key("invoice", &["\"ACME\"".into(), "7".into()]),
            "invoice:\"ACME\":7"
        );
        let long = "x".repeat(600);
        let k = unique_key("big", std::slice::from_ref(&long));
        assert!(
            k.starts_with("big:sha256:") && k.len() == "big:sha256:".len() + 64,
            "{k}"
        );
        assert_eq!(k, unique_key("big", &[long]), "stable");
        assert_ne!(k, unique_key("big", &["y".repeat(600)]));
    }

    /// The derive's stand-in impl bounds the type by these re-exports: every job type
    /// must meet them, or that impl would refuse types the trait accepts.
    #[test]
    fn every_job_meets_the_bounds_of_the_stand_in_impl() {
        fn bounds<T: Serialize + DeserializeOwned + Send + Sync + 'static>() {}
        fn job<T: Job>() {
            bounds::<T>();
        }
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Probe;
        impl Job for Probe {
            const NAME: &'static str = "probe";
        }
        job::<Probe>();
    }
}
