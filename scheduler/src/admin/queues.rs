//! Queues through the operator's eyes: their figures, and pausing one for every
//! process on the database.

use super::Admin;
use crate::{error::Result, model::QueueInfo};

impl Admin {
    /// Every queue that has unfinished runs or was ever paused, by name: pending runs
    /// (due and later), the oldest due run's time, running runs, and whether it is
    /// paused. Read from indexes: no history is scanned.
    ///
    /// ```
    /// # use runloom::{Admin, EnqueueOptions, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Report;
    /// # impl Perform for Report {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// let scheduler = Scheduler::builder().database(&path).register::<Report>().start()?;
    /// scheduler.pause()?;
    /// scheduler.enqueue_with(Report, EnqueueOptions::new().queue("reports"))?;
    /// let queues = Admin::open(&path)?.queues()?;
    /// assert_eq!(queues[0].name, "reports");
    /// assert_eq!((queues[0].pending, queues[0].due, queues[0].running), (1, 1, 0));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn queues(&self) -> Result<Vec<QueueInfo>> {
        let now = self.clock.now();
        self.store.read(|tx| tx.list_queues(now))
    }

    /// Stops claiming from `queue` in every process sharing the database; its running
    /// jobs finish, its runs wait, other queues go on. Returns false when it was paused
    /// already. A queue need not exist yet to be paused.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// assert!(admin.pause_queue("mail")?);
    /// assert!(!admin.pause_queue("mail")?, "already paused");
    /// assert!(admin.queues()?.iter().any(|q| q.name == "mail" && q.paused));
    /// assert!(admin.pause_queue("no spaces").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a bad queue name; database errors.
    pub fn pause_queue(&self, queue: &str) -> Result<bool> {
        let now = self.clock.now();
        self.store.write(|tx| tx.set_queue_paused(queue, true, now))
    }

    /// Resumes claiming from `queue` in every process sharing the database. Returns
    /// false when it was not paused.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// admin.pause_queue("mail")?;
    /// assert!(admin.resume_queue("mail")?);
    /// assert!(!admin.resume_queue("mail")?, "it was not paused any more");
    /// assert!(admin.queues()?.iter().all(|q| !q.paused));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a bad queue name; database errors.
    pub fn resume_queue(&self, queue: &str) -> Result<bool> {
        let now = self.clock.now();
        self.store
            .write(|tx| tx.set_queue_paused(queue, false, now))
    }
}
