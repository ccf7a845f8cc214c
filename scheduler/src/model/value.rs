//! The model's own refusal: a value outside the limits the model states, or a stored
//! value it cannot read. The model sits below every other module (errors included), so
//! its checks return this and `?` turns it into [`crate::Error`].

use std::fmt;

/// Why the model refused a value. Converts into [`crate::Error::InvalidArgument`],
/// [`crate::Error::CorruptValue`], [`crate::Error::InvalidRunState`] or
/// [`crate::Error::ResultType`] (with `?`), which is how the runtime reports it.
///
/// ```
/// let err = runloom::JobOptions::new().priority(101).validate().unwrap_err();
/// assert!(matches!(
///     runloom::Error::from(err),
///     runloom::Error::InvalidArgument { name: "priority", .. }
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueError {
    /// An argument outside its limits.
    Invalid {
        /// The name of the argument, e.g. `priority`.
        name: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A stored value that cannot be read back.
    Corrupt {
        /// Where the value was, e.g. `task_runs.errors`.
        column: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A run's result was asked for before it completed.
    NotCompleted {
        /// The run.
        run: super::RunId,
        /// Its status.
        status: super::RunStatus,
    },
    /// A run's result does not decode into the type asked for.
    ResultType {
        /// The run.
        run: super::RunId,
        /// What serde reported.
        detail: String,
    },
}

impl ValueError {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        ValueError::Invalid {
            name,
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(column: &'static str, detail: impl Into<String>) -> Self {
        ValueError::Corrupt {
            column,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Invalid { name, reason } => write!(f, "invalid {name}: {reason}"),
            ValueError::Corrupt { column, detail } => {
                write!(f, "unreadable value in {column}: {detail}")
            }
            ValueError::NotCompleted { run, status } => {
                write!(f, "run {run} has no result: it is {status}, not completed")
            }
            ValueError::ResultType { run, detail } => write!(
                f,
                "the result of run {run} does not decode into the type asked for: {detail}"
            ),
        }
    }
}

impl std::error::Error for ValueError {}
