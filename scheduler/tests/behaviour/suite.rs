//! The behavioural suite: what the scheduler promises, whatever the database. Every test
//! takes a `&dyn TestBackend` (a fresh database of one backend) and works through the
//! public API only (the scheduler handle and `Admin`), so a second backend runs the
//! same suite unchanged: it implements `TestBackend` (`tests/common/backend.rs`) and
//! gets a test binary of its own like `tests/behaviour_sqlite.rs` (one binary per
//! backend, so the jobs' process-wide counters and gates never mix two backends).
//! River's driver test suite is the model.
//!
//! What only one backend can show (a SQLite file's bytes, its checkpoints, a host's
//! rusqlite transaction) stays in that backend's own test files.

pub(crate) mod admin;
pub(crate) mod dependencies;
pub(crate) mod queues;
pub(crate) mod runtime;
pub(crate) mod schedules;
pub(crate) mod snooze;
pub(crate) mod waiting;
pub(crate) mod workflows;

/// Every test of the suite, once, as `module { test, ... }`: `suite!(name => backend)`
/// instantiates each as `name::module::test`, where `backend` makes an
/// `Option<impl TestBackend>` (`None`: the backend's tests are skipped, as the
/// PostgreSQL ones are by `RUNLOOM_SKIP_POSTGRES`).
macro_rules! suite {
    ($backend:ident => $make:expr) => {
        mod $backend {
            suite!(@tests $make;
                admin {
                    run_details_show_the_lease_the_worker_and_the_dependencies,
                    cancel_writes_the_cascade_before_it_returns,
                    retry_where_puts_upstreams_back_before_the_runs_waiting_for_them,
                    retry_where_reports_each_refusal_and_goes_on,
                    pause_resume_enqueue_and_figures_without_a_scheduler,
                    schedules_and_their_next_fire_times,
                }
                runtime {
                    registering_a_job_type_twice_is_refused,
                    a_run_goes_from_enqueued_to_completed_with_its_result_and_events,
                    higher_priority_runs_start_first_then_older_ones,
                    a_delayed_run_waits_for_its_time_on_the_injected_clock,
                    a_unique_key_returns_the_unfinished_run_instead_of_a_duplicate,
                    failed_attempts_are_retried_with_backoff_and_every_error_is_kept,
                    the_backoff_delays_the_retry_on_the_injected_clock,
                    a_panic_fails_the_attempt_with_its_message_and_the_pool_survives,
                    a_job_past_its_timeout_fails_its_attempt_as_a_timeout,
                    cancelling_a_pending_run_and_a_running_one,
                    a_cancel_written_by_another_process_reaches_the_job_through_the_heartbeat,
                    a_job_can_cancel_itself_fail_for_good_or_ask_for_a_later_retry,
                    a_bad_payload_fails_at_once_and_unknown_types_are_refused_at_enqueue,
                    oversized_and_unserializable_payloads_are_refused_and_nothing_is_written,
                    many_jobs_in_one_transaction,
                    retrying_a_failed_run_by_hand,
                    stats_count_runs_and_rates,
                    a_panicking_event_hook_does_not_stop_the_scheduler,
                    dropping_the_handle_shuts_down_and_leaves_no_lease,
                    the_next_runs_are_claimed_as_soon_as_the_last_outcomes_are_written,
                    a_resume_in_this_process_starts_the_waiting_runs_at_once,
                }
                dependencies {
                    a_fan_out_fan_in_workflow_runs_in_graph_order,
                    a_failing_branch_cancels_what_waits_for_it_transitively,
                    a_chain_runs_in_order_and_no_snapshot_shows_a_run_blocked_after_its_upstream_completed,
                    bad_graphs_are_refused_and_nothing_is_written,
                    edges_onto_existing_runs,
                    cancelling_a_run_cancels_the_runs_waiting_for_it,
                    a_retried_run_waits_again_for_an_upstream_that_has_not_finished,
                    a_run_cancelled_by_a_failed_upstream_is_retried_after_its_upstream,
                    a_failure_at_the_head_of_a_long_chain_cancels_all_of_it_in_the_background,
                }
                schedules {
                    a_cron_schedule_creates_each_occurrence_on_time_and_they_run,
                    an_interval_schedule_fires_one_interval_after_it_is_created,
                    a_restart_continues_the_same_schedule_without_duplicates,
                    two_schedulers_on_one_file_create_each_occurrence_once,
                    misfire_run_once_creates_one_run_for_the_missed_period,
                    misfire_run_all_creates_the_latest_missed_occurrences_up_to_the_cap,
                    misfire_skip_creates_none_of_the_missed_occurrences,
                    updating_and_removing_a_schedule,
                    a_unique_key_keeps_occurrences_from_overlapping,
                    bad_schedules_are_refused_with_the_reason_and_nothing_is_written,
                    occurrences_not_started_follow_the_schedules_latest_definition,
                    an_occurrence_that_started_runs_to_its_end_when_its_schedule_is_removed,
                    a_long_catch_up_is_created_in_bounded_transactions_and_misses_nothing,
                    daylight_saving_in_new_york_falling_back,
                    daylight_saving_in_new_york_springing_forward,
                    disabling_a_schedule_cancels_what_waits_and_enabling_continues_from_now,
                    a_host_start_leaves_an_operators_switch_alone_unless_its_spec_says_otherwise,
                    triggering_a_task_runs_it_now_and_leaves_its_schedule_alone,
                }
                queues {
                    a_run_waits_in_its_types_queue_unless_the_enqueue_names_another,
                    a_process_runs_only_the_queues_it_lists,
                    each_queue_runs_at_most_its_threads_and_never_holds_up_another,
                    a_paused_queue_waits_in_every_process_while_the_others_go_on,
                }
                snooze {
                    a_snoozed_run_is_tried_again_without_using_an_attempt,
                    a_snooze_waits_its_delay_on_the_injected_clock,
                    snoozes_past_the_limit_count_as_failed_attempts,
                }
                waiting {
                    wait_returns_the_finished_run_with_its_typed_result,
                    a_wait_that_times_out_names_the_run_and_changes_nothing,
                    wait_all_gives_the_runs_in_the_order_asked_and_refuses_an_unknown_id,
                    wait_idle_returns_once_every_due_run_and_its_dependents_are_done,
                    the_queue_is_not_idle_while_paused_with_due_runs,
                    an_admin_of_its_own_sees_runs_another_handle_finishes,
                    a_test_scheduler_runs_only_when_drained,
                }
                workflows {
                    a_step_reads_its_upstreams_typed_result,
                    a_fan_in_reads_every_branchs_result,
                    a_missing_upstream_result_fails_the_step_for_good,
                    follow_ups_exist_only_for_the_attempt_that_completed,
                    a_follow_up_of_an_unregistered_type_fails_the_step_and_creates_nothing,
                }
            );
        }
    };
    (@tests $make:expr; $($module:ident { $($test:ident),* $(,)? })*) => {
        $(
            mod $module {
                $(
                    #[test]
                    fn $test() {
                        let Some(backend) = $make else { return };
                        crate::suite::$module::$test(&backend);
                    }
                )*
            }
        )*
    };
}
