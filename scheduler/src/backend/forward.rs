//! The storage interface's reads, forwarded to a backend's inherent methods of the
//! same names: both backends implement [`Reads`](super::Reads) this way, so the list is
//! written once.

/// `impl Reads for $ty`, each method calling `$inherent::method(self, ..)`: an inherent
/// method is found before the trait's, so none calls itself.
macro_rules! forward_reads {
    ($ty:ty, $inherent:ident) => {
        impl $crate::backend::Reads for $ty {
            fn get_run(
                &self,
                id: $crate::model::RunId,
            ) -> $crate::error::Result<$crate::model::Run> {
                $inherent::get_run(self, id)
            }
            fn find_run(
                &self,
                id: $crate::model::RunId,
            ) -> $crate::error::Result<Option<$crate::model::Run>> {
                $inherent::find_run(self, id)
            }
            fn run_status(
                &self,
                id: $crate::model::RunId,
            ) -> $crate::error::Result<$crate::model::RunStatus> {
                $inherent::run_status(self, id)
            }
            fn list_runs(
                &self,
                filter: &$crate::model::RunFilter,
            ) -> $crate::error::Result<Vec<$crate::model::Run>> {
                $inherent::list_runs(self, filter)
            }
            fn count_runs_by_status(&self) -> $crate::error::Result<$crate::model::StatusCounts> {
                $inherent::count_runs_by_status(self)
            }
            fn is_idle(&self, now: ::time::OffsetDateTime) -> $crate::error::Result<bool> {
                $inherent::is_idle(self, now)
            }
            fn count_unfinished_by_type(
                &self,
            ) -> $crate::error::Result<Vec<(String, $crate::model::RunStatus, u64)>> {
                $inherent::count_unfinished_by_type(self)
            }
            fn next_due_unpaused(
                &self,
                after: ::time::OffsetDateTime,
                queue: &str,
                job_types: &$crate::backend::JobTypeFilter,
            ) -> $crate::error::Result<Option<::time::OffsetDateTime>> {
                $inherent::next_due_unpaused(self, after, queue, job_types)
            }
            fn lease_of(
                &self,
                run: $crate::model::RunId,
            ) -> $crate::error::Result<Option<$crate::model::Lease>> {
                $inherent::lease_of(self, run)
            }
            fn leases_of_worker(
                &self,
                worker: $crate::model::WorkerId,
            ) -> $crate::error::Result<Vec<$crate::model::Lease>> {
                $inherent::leases_of_worker(self, worker)
            }
            fn cancel_requested_for_worker(
                &self,
                worker: $crate::model::WorkerId,
            ) -> $crate::error::Result<Vec<$crate::model::RunId>> {
                $inherent::cancel_requested_for_worker(self, worker)
            }
            fn upstream_of(
                &self,
                run: $crate::model::RunId,
            ) -> $crate::error::Result<Vec<$crate::model::DependencyEdge>> {
                $inherent::upstream_of(self, run)
            }
            fn downstream_of(
                &self,
                run: $crate::model::RunId,
            ) -> $crate::error::Result<Vec<$crate::model::DependencyEdge>> {
                $inherent::downstream_of(self, run)
            }
            fn dependency_graph(
                &self,
                run: $crate::model::RunId,
            ) -> $crate::error::Result<Vec<$crate::model::DependencyEdge>> {
                $inherent::dependency_graph(self, run)
            }
            fn find_task(
                &self,
                id: $crate::model::TaskId,
            ) -> $crate::error::Result<Option<$crate::model::Task>> {
                $inherent::find_task(self, id)
            }
            fn find_task_by_name(
                &self,
                name: &str,
            ) -> $crate::error::Result<Option<$crate::model::Task>> {
                $inherent::find_task_by_name(self, name)
            }
            fn list_tasks(
                &self,
                include_deleted: bool,
            ) -> $crate::error::Result<Vec<$crate::model::Task>> {
                $inherent::list_tasks(self, include_deleted)
            }
            fn due_schedules(
                &self,
                until: ::time::OffsetDateTime,
                limit: usize,
            ) -> $crate::error::Result<Vec<$crate::model::Task>> {
                $inherent::due_schedules(self, until, limit)
            }
            fn next_schedule_due(&self) -> $crate::error::Result<Option<::time::OffsetDateTime>> {
                $inherent::next_schedule_due(self)
            }
            fn find_worker(
                &self,
                id: $crate::model::WorkerId,
            ) -> $crate::error::Result<Option<$crate::model::Worker>> {
                $inherent::find_worker(self, id)
            }
            fn list_workers(
                &self,
                include_offline: bool,
            ) -> $crate::error::Result<Vec<$crate::model::Worker>> {
                $inherent::list_workers(self, include_offline)
            }
            fn get_state(&self, key: &str) -> $crate::error::Result<Option<String>> {
                $inherent::get_state(self, key)
            }
            fn is_paused(&self) -> $crate::error::Result<bool> {
                $inherent::is_paused(self)
            }
            fn claim_pauses(&self) -> $crate::error::Result<(bool, Vec<String>)> {
                $inherent::claim_pauses(self)
            }
            fn list_queues(
                &self,
                now: ::time::OffsetDateTime,
            ) -> $crate::error::Result<Vec<$crate::model::QueueInfo>> {
                $inherent::list_queues(self, now)
            }
            fn registered_job_types(&self) -> $crate::error::Result<Vec<String>> {
                $inherent::registered_job_types(self)
            }
            fn is_token_revoked(&self, token_id: &str) -> $crate::error::Result<bool> {
                $inherent::is_token_revoked(self, token_id)
            }
            fn health(&self) -> $crate::error::Result<$crate::model::Health> {
                $inherent::health(self)
            }
            fn task_stats(&self) -> $crate::error::Result<Vec<$crate::model::TaskStats>> {
                $inherent::task_stats(self)
            }
            fn last_hour(&self) -> $crate::error::Result<$crate::model::LastHour> {
                $inherent::last_hour(self)
            }
            fn throughput_last_hour(
                &self,
            ) -> $crate::error::Result<Vec<$crate::model::MinuteThroughput>> {
                $inherent::throughput_last_hour(self)
            }
        }
    };
}

pub(crate) use forward_reads;
