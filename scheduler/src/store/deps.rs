//! `task_dependencies`: edges of the DAG between runs, and what a run's end does to the
//! runs that wait for it.
//!
//! A run's `blocked_on` counts its unresolved edges. An edge is resolved exactly once,
//! when its upstream finishes: completion (or failure through an `on_failure = run` edge)
//! decrements the dependent, which becomes `pending` at zero; a permanent failure or a
//! cancellation cancels dependents through `on_failure = cancel` edges with reason
//! `upstream_failed`, and their dependents in turn. Every step is an indexed lookup of
//! the finished run's own edges, never a scan.

use rusqlite::{OptionalExtension, Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{OnUpstreamFailure, RunId, RunStatus, ms, ts},
};
use crate::error::{Error, Result};

/// The reason recorded on runs cancelled because an upstream run failed or was cancelled.
pub const UPSTREAM_FAILED: &str = "upstream_failed";

/// An edge to add: `downstream` waits for `upstream`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewDependency {
    /// The run that waits.
    pub downstream: RunId,
    /// The run it waits for.
    pub upstream: RunId,
    /// What `downstream` does if `upstream` fails for good or is cancelled.
    pub on_failure: OnUpstreamFailure,
}

impl NewDependency {
    /// `downstream` waits for `upstream`, and is cancelled if `upstream` fails.
    #[must_use]
    pub fn new(downstream: RunId, upstream: RunId) -> Self {
        NewDependency {
            downstream,
            upstream,
            on_failure: OnUpstreamFailure::Cancel,
        }
    }

    /// Sets what happens to `downstream` if `upstream` fails.
    #[must_use]
    pub fn on_failure(mut self, on_failure: OnUpstreamFailure) -> Self {
        self.on_failure = on_failure;
        self
    }
}

/// An edge as stored, with the status of both ends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DependencyEdge {
    /// The run that waits.
    pub downstream: RunId,
    /// The run it waits for.
    pub upstream: RunId,
    /// What `downstream` does if `upstream` fails.
    pub on_failure: OnUpstreamFailure,
    /// True once `upstream` finished and the edge was settled.
    pub resolved: bool,
    /// When the edge was added.
    pub created_at: OffsetDateTime,
    /// The upstream run's status.
    pub upstream_status: RunStatus,
    /// The downstream run's status.
    pub downstream_status: RunStatus,
}

/// Limits on the dependency graphs the store accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DependencyLimits {
    /// Most upstream runs one run may wait for. Defaults to 10 000.
    pub max_fan_in: usize,
    /// Most edges (or runs) one call may add. Defaults to 100 000.
    pub max_graph_size: usize,
}

impl Default for DependencyLimits {
    fn default() -> Self {
        DependencyLimits {
            max_fan_in: 10_000,
            max_graph_size: 100_000,
        }
    }
}

impl DependencyLimits {
    /// Sets [`DependencyLimits::max_fan_in`].
    #[must_use]
    pub fn max_fan_in(mut self, n: usize) -> Self {
        self.max_fan_in = n;
        self
    }

    /// Sets [`DependencyLimits::max_graph_size`].
    #[must_use]
    pub fn max_graph_size(mut self, n: usize) -> Self {
        self.max_graph_size = n;
        self
    }
}

fn edge_from_row(r: &Row<'_>) -> Result<DependencyEdge> {
    Ok(DependencyEdge {
        downstream: r.get("downstream_id")?,
        upstream: r.get("upstream_id")?,
        on_failure: r.get("on_failure")?,
        resolved: r.get::<_, i64>("resolved")? == 1,
        created_at: ts(r.get("created_at")?)?,
        upstream_status: r.get("upstream_status")?,
        downstream_status: r.get("downstream_status")?,
    })
}

impl ReadTx<'_> {
    fn edges(&self, query: &str, id: RunId) -> Result<Vec<DependencyEdge>> {
        let mut stmt = self.conn().prepare_cached(query)?;
        let mut rows = stmt.query(named_params! { ":id": id })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(edge_from_row(row)?);
        }
        Ok(out)
    }

    /// The edges `run` waits on.
    ///
    /// # Errors
    /// Database errors.
    pub fn upstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_UPSTREAM_OF, run)
    }

    /// The edges that wait on `run`.
    ///
    /// # Errors
    /// Database errors.
    pub fn downstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_DOWNSTREAM_OF, run)
    }

    /// Every edge among the ancestors and descendants of `run`.
    ///
    /// # Errors
    /// Database errors.
    pub fn dependency_graph(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_GRAPH_OF, run)
    }

    /// Does `from` (transitively) wait for `target`?
    fn reaches(&self, from: RunId, target: RunId) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(sql::DEPS_REACHES)?
            .query_row(named_params! { ":from": from, ":target": target }, |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }
}

impl WriteTx<'_> {
    /// Adds dependency edges between existing runs. A downstream run must not have
    /// started; it becomes `blocked` while any upstream is unfinished. An edge to an
    /// upstream that already completed is recorded and does not block; one to an
    /// upstream that already failed or was cancelled applies its `on_failure` at once.
    /// An edge that exists already is left as it is.
    ///
    /// Every edge is checked before it is written; on any error the caller's transaction
    /// must be rolled back ([`super::Store::write`] does), so nothing is written.
    ///
    /// # Errors
    /// [`Error::SelfDependency`], [`Error::UnknownDependency`],
    /// [`Error::DependencyNotAllowed`], [`Error::DependencyCycle`],
    /// [`Error::DependencyLimit`]; database errors.
    pub fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        self.add_edges(edges, limits, now, true)
    }

    /// [`WriteTx::add_dependencies`] without the per-edge cycle query, for edges whose
    /// downstream runs were inserted in this transaction: nothing existing can wait for
    /// a new run, so a cycle could only lie among the new edges, which the caller has
    /// already checked.
    pub(crate) fn add_dependencies_acyclic(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        self.add_edges(edges, limits, now, false)
    }

    fn add_edges(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
        check_cycles: bool,
    ) -> Result<usize> {
        if edges.len() > limits.max_graph_size {
            return Err(Error::DependencyLimit {
                limit: "graph size",
                max: limits.max_graph_size,
                actual: edges.len(),
            });
        }
        let mut added = 0;
        for edge in edges {
            if edge.downstream == edge.upstream {
                return Err(Error::SelfDependency(edge.downstream));
            }
            let up_status = self
                .find_status(edge.upstream)?
                .ok_or(Error::UnknownDependency(edge.upstream))?;
            let down_status = self
                .find_status(edge.downstream)?
                .ok_or(Error::UnknownDependency(edge.downstream))?;
            if !matches!(down_status, RunStatus::Blocked | RunStatus::Pending) {
                // A downstream cancelled by an earlier edge of this call (its upstream
                // had failed) stays cancelled; any other started run cannot wait.
                if check_cycles || down_status != RunStatus::Cancelled {
                    return Err(Error::DependencyNotAllowed {
                        downstream: edge.downstream,
                        status: down_status,
                    });
                }
            }
            if self.edge_exists(edge.downstream, edge.upstream)? {
                continue;
            }
            // The new edge closes a cycle iff the upstream already waits for the
            // downstream (edges added earlier in this call included).
            if check_cycles && self.reaches(edge.upstream, edge.downstream)? {
                return Err(Error::DependencyCycle {
                    downstream: edge.downstream,
                    upstream: edge.upstream,
                });
            }
            if check_cycles {
                let fan_in = self.upstream_count(edge.downstream)? + 1;
                if fan_in > limits.max_fan_in {
                    return Err(Error::DependencyLimit {
                        limit: "fan-in",
                        max: limits.max_fan_in,
                        actual: fan_in,
                    });
                }
            }
            self.insert_edge(edge, up_status.is_finished(), now)?;
            match up_status {
                RunStatus::Completed => {}
                RunStatus::Failed | RunStatus::Cancelled => {
                    if edge.on_failure == OnUpstreamFailure::Cancel {
                        self.cancel_upstream_failed(edge.downstream, now)?;
                    }
                }
                RunStatus::Blocked | RunStatus::Pending | RunStatus::Running => {
                    self.conn()
                        .prepare_cached(sql::RUNS_BLOCK)?
                        .execute(named_params! { ":id": edge.downstream })?;
                }
            }
            added += 1;
        }
        Ok(added)
    }

    pub(crate) fn insert_edge(
        &self,
        edge: &NewDependency,
        resolved: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(sql::DEPS_INSERT)?
            .execute(named_params! {
                ":downstream_id": edge.downstream,
                ":upstream_id": edge.upstream,
                ":on_failure": edge.on_failure,
                ":resolved": i64::from(resolved),
                ":now": ms(now),
            })?;
        Ok(())
    }

    fn find_status(&self, id: RunId) -> Result<Option<RunStatus>> {
        match self.run_status(id) {
            Ok(s) => Ok(Some(s)),
            Err(Error::RunNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn edge_exists(&self, downstream: RunId, upstream: RunId) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(sql::DEPS_EXISTS)?
            .query_row(
                named_params! { ":downstream_id": downstream, ":upstream_id": upstream },
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn upstream_count(&self, downstream: RunId) -> Result<usize> {
        let n: i64 = self
            .conn()
            .prepare_cached(sql::DEPS_COUNT_UPSTREAM)?
            .query_row(named_params! { ":downstream_id": downstream }, |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Cancels a waiting run because an upstream failed, then settles its own
    /// dependents. Returns the number of runs that became pending along the way.
    fn cancel_upstream_failed(&self, run: RunId, now: OffsetDateTime) -> Result<usize> {
        let changed = self
            .conn()
            .prepare_cached(sql::RUNS_CANCEL_UPSTREAM_FAILED)?
            .execute(named_params! { ":id": run, ":now": ms(now) })?;
        if changed == 0 {
            return Ok(0);
        }
        self.settle_dependents(run, false, now)
    }

    /// Settles the edges of a run that just finished. `completed`: every dependent
    /// waiting on it has one upstream fewer. Otherwise (failed for good, or cancelled):
    /// dependents through `run` edges are released the same way, dependents through
    /// `cancel` edges are cancelled (`upstream_failed`), transitively.
    ///
    /// Each edge is resolved once and its dependent updated by primary key: a run with
    /// no unresolved dependents (most runs) costs one index seek.
    ///
    /// Returns how many dependents became `pending`.
    pub(crate) fn settle_dependents(
        &self,
        run: RunId,
        completed: bool,
        now: OffsetDateTime,
    ) -> Result<usize> {
        if !self.has_unresolved_dependents(run)? {
            return Ok(0);
        }
        let mut unblocked = 0;
        let mut failed = vec![run];
        let mut cancel = self
            .conn()
            .prepare_cached(sql::RUNS_CANCEL_UPSTREAM_FAILED)?;
        while let Some(id) = failed.pop() {
            for (downstream, on_failure) in self.resolve_edges(id)? {
                if completed || on_failure == OnUpstreamFailure::Run {
                    if self.release_one_upstream(downstream)? {
                        unblocked += 1;
                    }
                } else if cancel.execute(named_params! { ":id": downstream, ":now": ms(now) })? > 0
                {
                    failed.push(downstream);
                }
            }
        }
        Ok(unblocked)
    }

    /// Marks the unresolved edges from `run` resolved; returns each dependent and what
    /// it does on failure.
    fn resolve_edges(&self, run: RunId) -> Result<Vec<(RunId, OnUpstreamFailure)>> {
        let mut resolve = self.conn().prepare_cached(sql::DEPS_RESOLVE_EDGES)?;
        let edges = resolve
            .query_map(named_params! { ":id": run }, |r| {
                Ok((r.get::<_, RunId>(0)?, r.get::<_, OnUpstreamFailure>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(edges)
    }

    /// One upstream of a blocked run settled; true when that was its last and it is
    /// pending now.
    fn release_one_upstream(&self, run: RunId) -> Result<bool> {
        let last = self
            .conn()
            .prepare_cached(sql::RUNS_RELEASE_LAST_UPSTREAM)?
            .execute([run])?;
        if last == 1 {
            return Ok(true);
        }
        self.conn()
            .prepare_cached(sql::RUNS_RELEASE_ONE_UPSTREAM)?
            .execute([run])?;
        Ok(false)
    }

    fn has_unresolved_dependents(&self, run: RunId) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(sql::DEPS_HAS_UNRESOLVED_DOWNSTREAM)?
            .query_row([run], |r| r.get(0))?)
    }
}
