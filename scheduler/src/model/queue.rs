//! Named queues: every run and task belongs to one, `default` unless set. A process
//! runs the queues it lists, each with its own threads; operators pause and resume a
//! queue for every process on the database.

use time::OffsetDateTime;

use super::ValueError;

/// The queue of a job type that names none.
pub const DEFAULT_QUEUE: &str = "default";
/// The longest queue name, in bytes.
pub const MAX_QUEUE_NAME_LEN: usize = 64;

/// Checks a queue name: 1 to [`MAX_QUEUE_NAME_LEN`] bytes of ASCII letters, digits and
/// `_ - . :` (names appear in metrics labels, CLI arguments and URLs).
///
/// ```
/// use runloom::validate_queue;
///
/// assert!(validate_queue("mail").is_ok());
/// assert!(validate_queue("billing.eu-1").is_ok());
/// assert!(validate_queue("").is_err());
/// assert!(validate_queue("two words").is_err());
/// ```
///
/// # Errors
/// [`ValueError::Invalid`] naming `queue`.
pub fn validate_queue(name: &str) -> Result<(), ValueError> {
    if name.is_empty() || name.len() > MAX_QUEUE_NAME_LEN {
        return Err(ValueError::invalid(
            "queue",
            format!(
                "must be 1 to {MAX_QUEUE_NAME_LEN} bytes, got {}",
                name.len()
            ),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
    {
        return Err(ValueError::invalid(
            "queue",
            format!("{name:?} holds {c:?}: use ASCII letters, digits and _ - . :"),
        ));
    }
    Ok(())
}

/// One queue as the database sees it (every process): its runs and whether it is
/// paused. Listed by [`crate::Admin::queues`] for each queue that has unfinished runs
/// or was ever paused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueInfo {
    /// The queue's name.
    pub name: String,
    /// Paused by an operator: no process claims from it until it is resumed.
    pub paused: bool,
    /// Pending runs, due now or later.
    pub pending: u64,
    /// Pending runs due now.
    pub due: u64,
    /// When the longest-waiting due run became due.
    pub oldest_due: Option<OffsetDateTime>,
    /// Runs running now (under a lease).
    pub running: u64,
}
