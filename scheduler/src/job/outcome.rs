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
    /// Try again after this delay without using an attempt (see [`JobError::snooze`]).
    Snooze(Duration),
}

/// The error a job returns from [`crate::Perform::perform`].
///
/// Any error that is `Send + Sync + 'static` converts into it with `?` (as a retryable
/// failure with the error's message and source chain), so a job can use `?` on I/O,
/// parsing, HTTP errors alike, and on `Box<dyn Error + Send + Sync>`, `anyhow::Error`,
/// `String` and `&str` (everything that converts into a `Box<dyn Error + Send + Sync>`).
/// The constructors choose another course.
///
/// `JobError` is not itself a [`std::error::Error`] (that is what makes the blanket
/// conversion possible, as with `anyhow::Error`); where one is expected, it derefs to
/// `dyn Error + Send + Sync`, and [`JobError::into_boxed`] gives a boxed one.
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
    message: Message,
}

impl JobError {
    /// A failure to retry with backoff.
    #[must_use]
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Retry,
            message: Message(message.into()),
        }
    }

    /// A failure to retry after `delay` instead of the backoff.
    #[must_use]
    pub fn retry_after(delay: Duration, message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::RetryAfter(delay),
            message: Message(message.into()),
        }
    }

    /// A failure that will not go away: the run fails now.
    #[must_use]
    pub fn fail(message: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Fail,
            message: Message(message.into()),
        }
    }

    /// The job cancels its own run, with a reason.
    #[must_use]
    pub fn cancel(reason: impl Into<String>) -> Self {
        JobError {
            kind: JobErrorKind::Cancel,
            message: Message(reason.into()),
        }
    }

    /// Not a failure: try the run again after `delay`, without using an attempt (the
    /// resource is busy, the data is not there yet, a rate limit said "later").
    ///
    /// The run goes back to `pending`, due `delay` from now, with its attempt count
    /// unchanged and its snooze count ([`crate::Run::snoozes`]) one higher; nothing is
    /// added to its error history. Snoozes are bounded so a run cannot loop unseen:
    /// past the scheduler's [`max_snoozes`](crate::SchedulerBuilder::max_snoozes)
    /// (100 by default), a snooze counts as a failed attempt like any other error and
    /// is retried or fails the run as attempts allow.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{JobError, JobErrorKind};
    ///
    /// let e = JobError::snooze(Duration::from_secs(30));
    /// assert_eq!(e.kind(), JobErrorKind::Snooze(Duration::from_secs(30)));
    /// ```
    #[must_use]
    pub fn snooze(delay: Duration) -> Self {
        JobError {
            kind: JobErrorKind::Snooze(delay),
            message: Message(format!("snoozed for {delay:?}")),
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
        &self.message.0
    }

    /// The failure as a boxed [`std::error::Error`] (its message; the course it asked
    /// for is dropped), for code that expects one.
    ///
    /// ```
    /// use runloom::JobError;
    ///
    /// fn step() -> Result<(), JobError> {
    ///     Err(JobError::fail("no such customer"))
    /// }
    /// fn caller() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    ///     step().map_err(JobError::into_boxed)?;
    ///     Ok(())
    /// }
    /// assert_eq!(caller().unwrap_err().to_string(), "no such customer");
    /// ```
    #[must_use]
    pub fn into_boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(self.message)
    }
}

/// The message of a [`JobError`] as a [`std::error::Error`] (what it derefs to). The
/// message already holds the source chain it was made from, so it has no source.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

/// A `JobError` is usable where a `&dyn Error` is expected.
///
/// ```
/// use runloom::JobError;
///
/// fn report(e: &(dyn std::error::Error + Send + Sync)) -> String {
///     format!("job failed: {e}")
/// }
/// let e = JobError::retry("timed out");
/// assert_eq!(report(&*e), "job failed: timed out");
/// ```
impl std::ops::Deref for JobError {
    type Target = dyn std::error::Error + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &self.message
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("kind", &self.kind)
            .field("message", &self.message.0)
            .finish()
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message.0)
    }
}

/// Any error becomes a retryable failure whose message is the error followed by its
/// sources (`outer: inner: root`). The bound is "converts into a boxed error", not
/// `E: Error`: that one cannot coexist with a conversion from `Box<dyn Error>` or
/// `anyhow::Error` (neither is an `Error`), and this one covers all three.
/// (`JobError` itself is not `std::error::Error`, which is what makes a blanket
/// conversion possible at all, as with `anyhow::Error`.)
impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for JobError {
    fn from(e: E) -> Self {
        let e: Box<dyn std::error::Error + Send + Sync> = e.into();
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
