//! How an attempt that did not succeed asks to continue: retry (the default), retry after
//! a given delay, fail for good, or cancel.

use std::{fmt, time::Duration};

/// What the scheduler does after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobErrorKind {
    /// Retry with exponential backoff while attempts are left, then fail. The default
    /// for any error converted with `?`.
    Retry,
    /// Retry after this delay (instead of the backoff) while attempts are left.
    RetryAfter(Duration),
    /// Fail the run now, whatever attempts are left (the error will not go away).
    Fail,
    /// Cancel the run: it ends `cancelled`, not `failed`.
    Cancel,
}

/// The error a job returns from [`crate::Perform::perform`].
///
/// Any error type converts into it with `?` (as a retryable failure with the error's
/// message and source chain), so a job can use `?` on I/O, parsing, HTTP errors alike.
/// The constructors choose another course.
///
/// ```
/// use std::time::Duration;
/// use runloom::JobError;
///
/// fn parse(input: &str) -> Result<u32, JobError> {
///     let n: u32 = input.trim().parse()?; // retryable, with the parse error's message
///     if n == 0 {
///         return Err(JobError::fail("zero is never valid")); // no retry
///     }
///     if n > 100 {
///         return Err(JobError::retry_after(Duration::from_secs(60), "rate limited"));
///     }
///     Ok(n)
/// }
/// assert!(parse("x").is_err());
/// ```
pub struct JobError {
    kind: JobErrorKind,
    message: String,
}

impl JobError {
    /// A failure to retry with backoff.
    #[must_use]
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Retry,
            message: message.into(),
        }
    }

    /// A failure to retry after `delay` instead of the backoff.
    #[must_use]
    pub fn retry_after(delay: Duration, message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::RetryAfter(delay),
            message: message.into(),
        }
    }

    /// A failure that will not go away: the run fails now.
    #[must_use]
    pub fn fail(message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Fail,
            message: message.into(),
        }
    }

    /// The job cancels its own run, with a reason.
    #[must_use]
    pub fn cancel(reason: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Cancel,
            message: reason.into(),
        }
    }

    /// What happens next.
    #[must_use]
    pub fn kind(&self) -> JobErrorKind {
        self.kind
    }

    /// The message recorded on the run.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Any error becomes a retryable failure whose message is the error followed by its
/// sources (`outer: inner: root`). (`JobError` itself is not `std::error::Error`, which
/// is what makes this blanket conversion possible, as with `anyhow::Error`.)
impl<E: std::error::Error> From<E> for JobError {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        JobError::retry(message)
    }
}
