//! Submission: runs and the edges between them written in one transaction. Edges among
//! runs of the same submission need no cycle check beyond their own order; an edge onto
//! a run that already existed (a unique key matched it) gets the full check.

use super::{BatchEdge, Upstream};
use crate::{
    backend::Backend,
    clock::Clock,
    dispatch::wake::{Wake, Waker},
    error::Result,
    events::{Event, Events},
    model::{DependencyLimits, Inserted, NewDependency, NewRun},
};

/// What a submission uses.
pub(crate) struct Submitter<'a> {
    pub(crate) store: &'a dyn Backend,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) limits: DependencyLimits,
    pub(crate) events: &'a Events,
    /// Wakes this process's dispatcher for the new runs.
    pub(crate) waker: &'a Waker,
}

/// Writes `runs` and `edges` in one transaction, then tells the subscribers and wakes
/// the dispatcher. The statuses returned are those after the edges (`blocked` for a run
/// that waits).
pub(crate) fn submit(
    with: &Submitter<'_>,
    runs: &[NewRun],
    edges: &[BatchEdge],
) -> Result<Vec<Inserted>> {
    let now = with.clock.now();
    let limits = with.limits;
    let inserted = with.store.write(|tx| {
        let mut inserted = tx.insert_runs(runs, now)?;
        if edges.is_empty() {
            return Ok(inserted);
        }
        let (mut fresh, mut onto_existing) = (Vec::new(), Vec::new());
        for e in edges {
            let down = &inserted[e.downstream.position()];
            let up = match e.upstream {
                Upstream::Job(r) => inserted[r.position()].id,
                Upstream::Run(id) => id,
            };
            let dep = NewDependency::new(down.id, up).on_failure(e.on_failure);
            // A job whose unique key matched an existing run is that run: edges onto
            // it need the full cycle check.
            if down.created {
                fresh.push(dep);
            } else {
                onto_existing.push(dep);
            }
        }
        tx.add_dependencies_acyclic(&fresh, &limits, now)?;
        tx.add_dependencies(&onto_existing, &limits, now)?;
        let mut waiting: Vec<usize> = edges.iter().map(|e| e.downstream.position()).collect();
        waiting.sort_unstable();
        waiting.dedup();
        for i in waiting {
            inserted[i].status = tx.run_status(inserted[i].id)?;
        }
        Ok(inserted)
    })?;
    if with.events.is_observed() {
        for (run, ins) in runs.iter().zip(&inserted) {
            with.events.emit(Event::Enqueued {
                run: ins.id,
                job_type: run.job_type.clone(),
                created: ins.created,
                scheduled_at: run.scheduled_at,
            });
        }
    }
    with.waker.wake(Wake::Work);
    Ok(inserted)
}
