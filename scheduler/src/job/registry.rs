//! The registry of job types a scheduler knows: name → type-erased runner.

use std::{collections::HashMap, fmt, sync::Arc};

use super::{JobContext, JobError, JobOptions, Perform};
use crate::error::{Error, Result};

/// What running one attempt produced, before the scheduler turns it into a state change.
pub(crate) enum RunResult {
    /// Success, with the output as JSON text.
    Ok(String),
    /// The job returned an error.
    Err(JobError),
    /// The payload did not decode into the job type: it never will.
    BadPayload(String),
    /// The output did not serialize to JSON.
    BadOutput(String),
    /// The job panicked, with the panic's message.
    Panic(String),
    /// This process has no runner for the job type (it should not have claimed it).
    NotRegistered,
}

/// A registered job type, erased so one registry holds every type.
pub(crate) trait Runner: Send + Sync {
    /// Decodes the payload and runs the job.
    fn run(&self, payload: &str, ctx: &JobContext) -> RunResult;
    /// Checks that a payload decodes into the job type (for payloads given as JSON).
    fn check_payload(&self, payload: &str) -> std::result::Result<(), String>;
    /// The type's default options.
    fn options(&self) -> JobOptions;
    /// The application state the type declares it reads.
    fn required_state(&self) -> Vec<super::StateType>;
    /// What the type's payload looks like, if it says.
    fn payload_shape(&self) -> Option<crate::PayloadShape>;
}

struct TypedRunner<J>(std::marker::PhantomData<fn() -> J>);

/// What a job's `perform` returning `result` makes of its attempt, whatever ran it.
pub(crate) fn ended<O: serde::Serialize>(
    ctx: &JobContext,
    result: std::result::Result<O, JobError>,
) -> RunResult {
    match result {
        // Follow-ups are created with the completion, so this completion is the job's
        // own transaction rather than the batched one.
        Ok(output) if ctx.has_follow_ups() && !ctx.is_completed() => {
            match ctx.transaction_with(|_| Ok(&output)) {
                Ok(_) => RunResult::Ok(String::new()),
                Err(e) => RunResult::Err(e),
            }
        }
        Ok(output) => match serde_json::to_string(&output) {
            Ok(json) => RunResult::Ok(json),
            Err(e) => RunResult::BadOutput(e.to_string()),
        },
        Err(e) => RunResult::Err(e),
    }
}

impl<J: Perform> Runner for TypedRunner<J> {
    fn run(&self, payload: &str, ctx: &JobContext) -> RunResult {
        let job: J = match serde_json::from_str(payload) {
            Ok(job) => job,
            Err(e) => return RunResult::BadPayload(e.to_string()),
        };
        ended(ctx, job.perform(ctx))
    }

    fn check_payload(&self, payload: &str) -> std::result::Result<(), String> {
        serde_json::from_str::<J>(payload)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn options(&self) -> JobOptions {
        J::options()
    }

    fn required_state(&self) -> Vec<super::StateType> {
        J::required_state()
    }

    fn payload_shape(&self) -> Option<crate::PayloadShape> {
        J::payload_shape()
    }
}

/// Job types by name.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    runners: HashMap<String, Arc<dyn Runner>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.runners.keys().collect();
        names.sort();
        f.debug_struct("Registry")
            .field("job_types", &names)
            .finish()
    }
}

impl Registry {
    /// Adds a job type.
    ///
    /// # Errors
    /// [`Error::DuplicateJobType`] when the name is taken; [`Error::InvalidArgument`]
    /// for an empty or oversized name or invalid default options.
    pub(crate) fn register<J: Perform>(&mut self) -> Result<()> {
        self.register_runner::<J>(Arc::new(TypedRunner::<J>(std::marker::PhantomData)))
    }

    /// Adds a job type run by `runner` (an async body's, for one).
    ///
    /// # Errors
    /// As [`Registry::register`].
    pub(crate) fn register_runner<J: super::Job>(&mut self, runner: Arc<dyn Runner>) -> Result<()> {
        crate::model::validate_name("job type name", J::NAME)?;
        J::options().validate()?;
        if self.runners.contains_key(J::NAME) {
            return Err(Error::DuplicateJobType(J::NAME.to_owned()));
        }
        self.runners.insert(J::NAME.to_owned(), runner);
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Runner>> {
        self.runners.get(name)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.runners.contains_key(name)
    }

    /// The first declared state type `state` lacks, with the job type declaring it.
    pub(crate) fn missing_state(
        &self,
        state: &super::state::AppState,
    ) -> Option<(String, super::StateType)> {
        let mut names: Vec<&String> = self.runners.keys().collect();
        names.sort();
        names.into_iter().find_map(|name| {
            self.runners[name]
                .required_state()
                .into_iter()
                .find(|t| !state.contains(*t))
                .map(|t| (name.clone(), t))
        })
    }

    /// Every type's name with its default options and payload shape, sorted by name.
    pub(crate) fn defaults(&self) -> Vec<(String, JobOptions, Option<crate::PayloadShape>)> {
        let mut v: Vec<(String, JobOptions, Option<crate::PayloadShape>)> = self
            .runners
            .iter()
            .map(|(name, r)| (name.clone(), r.options(), r.payload_shape()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.runners.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Checks that `payload` is JSON at all (used for foreign job types, whose Rust type
/// this binary does not know).
pub(crate) fn check_json(payload: &str) -> std::result::Result<(), String> {
    crate::model::check_json(payload)
}
