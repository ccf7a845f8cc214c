//! `task_dependencies`: edges of the DAG between runs, and what a run's end does to the
//! runs that wait for it.
//!
//! A run's `blocked_on` counts its unresolved edges. An edge is resolved exactly once,
//! when its upstream finishes: completion (or failure through an `on_failure = run` edge)
//! decrements the dependent, which becomes `pending` at zero; a permanent failure or a
//! cancellation cancels dependents through `on_failure = cancel` edges with reason
//! `upstream_failed`, and their dependents in turn. Every step is an indexed lookup of
//! the finished run's own edges, never a scan.

use std::collections::{HashMap, HashSet, hash_map::Entry};

use rusqlite::{OptionalExtension, Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{OnUpstreamFailure, RunId, RunStatus, ms, ts},
};
use crate::{
    error::{Error, Result},
    model::{DependencyEdge, DependencyLimits, NewDependency},
};

/// Most dependency edges one transaction settles; a run whose dependents do not fit
/// goes to the settle queue (0006), and the next transactions go on from it. A cascade
/// through ten thousand runs thus holds the write lock a few milliseconds at a time.
pub(crate) const SETTLE_EDGES_PER_TX: usize = 1000;

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

    /// Whether runs wait in the settle queue.
    ///
    /// # Errors
    /// Database errors.
    pub fn has_queued_settles(&self) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(sql::SETTLE_QUEUE_ANY)?
            .query_row([], |r| r.get(0))?)
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
}

/// Edges checked and ready to write, with the statuses of the runs they name.
#[derive(Debug)]
pub(crate) struct EdgePlan {
    fresh: Vec<NewDependency>,
    status: HashMap<RunId, RunStatus>,
}

/// The stored upstream edges of the runs a cycle check reached, each loaded once.
#[derive(Default)]
struct ExistingUpstreams(HashMap<RunId, Vec<RunId>>);

impl ExistingUpstreams {
    fn of(&mut self, tx: &ReadTx<'_>, run: RunId) -> Result<&[RunId]> {
        if let Entry::Vacant(slot) = self.0.entry(run) {
            let ups = tx
                .conn()
                .prepare_cached(sql::DEPS_UPSTREAM_IDS)?
                .query_map(named_params! { ":downstream_id": run }, |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<RunId>>>()?;
            slot.insert(ups);
        }
        Ok(self.0.get(&run).map_or(&[], Vec::as_slice))
    }
}

impl ReadTx<'_> {
    /// Checks edges to add against the database as this transaction sees it, and
    /// returns what to write: every check (each an indexed lookup per run or edge, so
    /// the cost grows with the edges, never with the graph squared) is made here, before
    /// any write, so a planner can run it without holding the write lock.
    pub(crate) fn plan_edges(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        check_cycles: bool,
    ) -> Result<EdgePlan> {
        if edges.len() > limits.max_graph_size {
            return Err(Error::DependencyLimit {
                limit: "graph size",
                max: limits.max_graph_size,
                actual: edges.len(),
            });
        }
        let mut status: HashMap<RunId, RunStatus> = HashMap::new();
        for edge in edges {
            if edge.downstream == edge.upstream {
                return Err(Error::SelfDependency(edge.downstream));
            }
            for id in [edge.upstream, edge.downstream] {
                if let Entry::Vacant(slot) = status.entry(id) {
                    slot.insert(self.find_status(id)?.ok_or(Error::UnknownDependency(id))?);
                }
            }
        }
        let mut seen = HashSet::new();
        let mut fresh = Vec::with_capacity(edges.len());
        for edge in edges {
            let down_status = status[&edge.downstream];
            if !matches!(down_status, RunStatus::Blocked | RunStatus::Pending) {
                // A downstream inserted in this transaction and cancelled by an earlier
                // edge of its batch (its upstream had failed) stays cancelled; any
                // other started run cannot wait.
                if check_cycles || down_status != RunStatus::Cancelled {
                    return Err(Error::DependencyNotAllowed {
                        downstream: edge.downstream,
                        status: down_status,
                    });
                }
            }
            if !seen.insert((edge.downstream, edge.upstream))
                || self.edge_exists(edge.downstream, edge.upstream)?
            {
                continue;
            }
            fresh.push(*edge);
        }
        if check_cycles {
            if let Some(i) = self.first_cycle(&fresh)? {
                return Err(Error::DependencyCycle {
                    downstream: fresh[i].downstream,
                    upstream: fresh[i].upstream,
                });
            }
            let mut fan_in: HashMap<RunId, usize> = HashMap::new();
            for edge in &fresh {
                *fan_in.entry(edge.downstream).or_default() += 1;
            }
            for (down, new) in fan_in {
                let total = self.upstream_count(down)? + new;
                if total > limits.max_fan_in {
                    return Err(Error::DependencyLimit {
                        limit: "fan-in",
                        max: limits.max_fan_in,
                        actual: total,
                    });
                }
            }
        }
        Ok(EdgePlan { fresh, status })
    }

    /// The position in `fresh` of the first edge that, with the existing edges and the
    /// edges before it, closes a cycle; `None` when they all fit. One walk of the graph
    /// when there is no cycle (the usual case); when there is, a binary search over
    /// prefixes finds the first edge to blame, a walk per step.
    fn first_cycle(&self, fresh: &[NewDependency]) -> Result<Option<usize>> {
        let mut existing = ExistingUpstreams::default();
        if !self.closes_cycle(fresh, &mut existing)? {
            return Ok(None);
        }
        // The shortest prefix with a cycle ends with the edge to blame.
        let (mut ok, mut bad) = (0, fresh.len());
        while bad - ok > 1 {
            let mid = ok + (bad - ok) / 2;
            if self.closes_cycle(&fresh[..mid], &mut existing)? {
                bad = mid;
            } else {
                ok = mid;
            }
        }
        Ok(Some(bad - 1))
    }

    /// Whether the existing graph (acyclic) with `added` has a cycle: an iterative
    /// depth-first walk along "waits for" from each added edge's downstream, loading a
    /// run's existing upstreams the first time it is reached.
    fn closes_cycle(
        &self,
        added: &[NewDependency],
        existing: &mut ExistingUpstreams,
    ) -> Result<bool> {
        let mut new_ups: HashMap<RunId, Vec<RunId>> = HashMap::new();
        for e in added {
            new_ups.entry(e.downstream).or_default().push(e.upstream);
        }
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Mark {
            OnPath,
            Done,
        }
        let mut marks: HashMap<RunId, Mark> = HashMap::new();
        for start in new_ups.keys() {
            if marks.contains_key(start) {
                continue;
            }
            // (run, its upstreams, the next one to visit)
            let mut path: Vec<(RunId, Vec<RunId>, usize)> = Vec::new();
            marks.insert(*start, Mark::OnPath);
            path.push((*start, self.upstreams(*start, &new_ups, existing)?, 0));
            while let Some((run, ups, next)) = path.last_mut() {
                let Some(&up) = ups.get(*next) else {
                    marks.insert(*run, Mark::Done);
                    path.pop();
                    continue;
                };
                *next += 1;
                match marks.get(&up) {
                    Some(Mark::OnPath) => return Ok(true),
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(up, Mark::OnPath);
                        let ups = self.upstreams(up, &new_ups, existing)?;
                        path.push((up, ups, 0));
                    }
                }
            }
        }
        Ok(false)
    }

    /// The runs `run` waits for: its stored edges and the added ones.
    fn upstreams(
        &self,
        run: RunId,
        added: &HashMap<RunId, Vec<RunId>>,
        existing: &mut ExistingUpstreams,
    ) -> Result<Vec<RunId>> {
        let mut ups = existing.of(self, run)?.to_vec();
        if let Some(more) = added.get(&run) {
            ups.extend(more);
        }
        Ok(ups)
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
        let plan = self.plan_edges(edges, limits, check_cycles)?;
        self.apply_edges(plan, now)
    }

    /// Writes the edges of a plan made on the current state of the database.
    pub(crate) fn apply_edges(&self, plan: EdgePlan, now: OffsetDateTime) -> Result<usize> {
        let EdgePlan { fresh, status } = plan;
        let mut blocking: HashMap<RunId, i64> = HashMap::new();
        for edge in &fresh {
            let up_status = status[&edge.upstream];
            self.insert_edge(edge, up_status.is_finished(), now)?;
            match up_status {
                RunStatus::Completed => {}
                RunStatus::Failed | RunStatus::Cancelled => {
                    if edge.on_failure == OnUpstreamFailure::Cancel {
                        self.cancel_upstream_failed(edge.downstream, now)?;
                    }
                }
                RunStatus::Blocked | RunStatus::Pending | RunStatus::Running => {
                    *blocking.entry(edge.downstream).or_default() += 1;
                }
            }
        }
        let mut block = self.conn().prepare_cached(sql::RUNS_BLOCK_BY)?;
        for (id, n) in blocking {
            // Guarded by status: a downstream cancelled above stays cancelled.
            block.execute(named_params! { ":id": id, ":n": n })?;
        }
        Ok(fresh.len())
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
    /// no unresolved dependents (most runs) costs one index seek. At most the
    /// transaction's budget of edges is settled here ([`SETTLE_EDGES_PER_TX`] in all);
    /// runs whose dependents are left go to the settle queue, which
    /// [`WriteTx::settle_queued`] works through in later transactions.
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
        let mut finished = vec![(run, completed)];
        let mut cancel = self
            .conn()
            .prepare_cached(sql::RUNS_CANCEL_UPSTREAM_FAILED)?;
        while let Some((id, completed)) = finished.pop() {
            let budget = self.settle_budget.get();
            if budget == 0 {
                self.queue_settle(id)?;
                continue;
            }
            let edges = self.resolve_edges(id, budget)?;
            self.settle_budget.set(budget - edges.len());
            if edges.len() == budget && self.has_unresolved_dependents(id)? {
                self.queue_settle(id)?;
            }
            for (downstream, on_failure) in edges {
                if completed || on_failure == OnUpstreamFailure::Run {
                    if self.release_one_upstream(downstream)? {
                        unblocked += 1;
                    }
                } else if cancel.execute(named_params! { ":id": downstream, ":now": ms(now) })? > 0
                {
                    finished.push((downstream, false));
                }
            }
        }
        Ok(unblocked)
    }

    /// Goes on settling the runs of the settle queue, within this transaction's budget.
    /// A queued run that is no longer finished (retried by hand meanwhile) is dropped:
    /// its dependents still wait for it, and its next ending settles them. Returns true
    /// while runs are left in the queue.
    ///
    /// # Errors
    /// Database errors.
    pub fn settle_queued(&self, now: OffsetDateTime) -> Result<bool> {
        let mut take = self.conn().prepare_cached(sql::SETTLE_QUEUE_TAKE)?;
        while self.settle_budget.get() > 0 {
            let Some(run): Option<RunId> = take.query_row([], |r| r.get(0)).optional()? else {
                return Ok(false);
            };
            match self.find_status(run)? {
                Some(RunStatus::Completed) => {
                    self.settle_dependents(run, true, now)?;
                }
                Some(RunStatus::Failed | RunStatus::Cancelled) => {
                    self.settle_dependents(run, false, now)?;
                }
                _ => {}
            }
        }
        self.has_queued_settles()
    }

    fn queue_settle(&self, run: RunId) -> Result<()> {
        self.conn()
            .prepare_cached(sql::SETTLE_QUEUE_ADD)?
            .execute(named_params! { ":run_id": run })?;
        Ok(())
    }

    /// Marks up to `limit` unresolved edges from `run` resolved; returns each dependent
    /// and what it does on failure.
    fn resolve_edges(&self, run: RunId, limit: usize) -> Result<Vec<(RunId, OnUpstreamFailure)>> {
        let mut resolve = self.conn().prepare_cached(sql::DEPS_RESOLVE_EDGES)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let edges = resolve
            .query_map(named_params! { ":id": run, ":limit": limit }, |r| {
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
