//! `task_dependencies` on PostgreSQL: the edges of the DAG between runs, and what a
//! run's end does to the runs that wait for it. The contract is SQLite's
//! (`store/deps.rs`), and so is the algorithm: each edge is resolved exactly once, when
//! its upstream finishes; at most the transaction's budget of edges is settled, the rest
//! through the settle queue.
//!
//! What differs is that several write transactions run at once, at READ COMMITTED:
//! * adding edges takes the graph's advisory lock (`deps_lock_graph.sql`), so the
//!   cycle, fan-in and exists checks see every edge another host added, and then locks
//!   the rows of the runs the edges name (`deps_lock_runs.sql`), so an upstream that
//!   finishes concurrently either did before (the edge is inserted resolved) or settles
//!   after the edge is committed (and sees it);
//! * settling resolves edges with one locking statement (`deps_resolve_edges.sql`), so
//!   two settlers of one run each take other edges, and updates each dependent's counter
//!   in one statement (`runs_release_one_upstream.sql`), so no decrement is lost;
//! * statements take arrays: one round trip per batch of edges or dependents, where the
//!   in-process SQLite asks row by row.

use std::collections::{HashMap, HashSet, hash_map::Entry};

use postgres::Row;
use time::OffsetDateTime;

use super::{sql, tx::PgTx, types::flag};
use crate::{
    backend::values::{ms, ts},
    error::{Error, Result},
    model::{DependencyEdge, DependencyLimits, NewDependency, OnUpstreamFailure, RunId, RunStatus},
};

fn edge_from_row(r: &Row) -> Result<DependencyEdge> {
    Ok(DependencyEdge {
        downstream: r.try_get("downstream_id")?,
        upstream: r.try_get("upstream_id")?,
        on_failure: r.try_get("on_failure")?,
        resolved: r.try_get::<_, i16>("resolved")? == 1,
        created_at: ts(r.try_get("created_at")?)?,
        upstream_status: r.try_get("upstream_status")?,
        downstream_status: r.try_get("downstream_status")?,
    })
}

/// Raw ids, as array parameters.
fn raw(ids: impl IntoIterator<Item = RunId>) -> Vec<i64> {
    ids.into_iter().map(RunId::get).collect()
}

/// Edges checked and ready to write, with the statuses of the runs they name.
#[derive(Debug)]
struct EdgePlan {
    fresh: Vec<NewDependency>,
    status: HashMap<RunId, RunStatus>,
}

/// The stored upstream edges of every run a cycle check can reach, loaded at once
/// (`deps_upstream_ids.sql`); a run without an entry waits for nothing.
#[derive(Default)]
struct ExistingUpstreams(HashMap<RunId, Vec<RunId>>);

impl ExistingUpstreams {
    fn of(&self, run: RunId) -> &[RunId] {
        self.0.get(&run).map_or(&[], Vec::as_slice)
    }
}

impl PgTx<'_> {
    fn edges(&self, query: &'static str, id: RunId) -> Result<Vec<DependencyEdge>> {
        self.query(query, &[&id])?
            .iter()
            .map(edge_from_row)
            .collect()
    }

    /// Whether runs wait in the settle queue.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn has_queued_settles(&self) -> Result<bool> {
        Ok(self.query_one(sql::SETTLE_QUEUE_ANY, &[])?.try_get(0)?)
    }

    /// The edges `run` waits on.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn upstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_UPSTREAM_OF, run)
    }

    /// The edges that wait on `run`.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn downstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_DOWNSTREAM_OF, run)
    }

    /// Every edge among the ancestors and descendants of `run`.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn dependency_graph(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.edges(sql::DEPS_GRAPH_OF, run)
    }

    /// Adds dependency edges between existing runs. A downstream run must not have
    /// started; it becomes `blocked` while any upstream is unfinished. An edge to an
    /// upstream that already completed is recorded and does not block; one to an
    /// upstream that already failed or was cancelled applies its `on_failure` at once.
    /// An edge that exists already is left as it is.
    ///
    /// Every edge is checked before it is written; on any error the caller's transaction
    /// must be rolled back, so nothing is written. Graph edits of all hosts are
    /// serialised (the graph's advisory lock, held until the transaction ends), and the
    /// runs the edges name are locked, so the checks hold until the commit.
    ///
    /// # Errors
    /// [`Error::SelfDependency`], [`Error::UnknownDependency`],
    /// [`Error::DependencyNotAllowed`], [`Error::DependencyCycle`],
    /// [`Error::DependencyLimit`]; database errors.
    pub(crate) fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        self.add_edges(edges, limits, now, true)
    }

    /// [`PgTx::add_dependencies`] without the cycle check (nor the fan-in limit), for
    /// edges whose downstream runs were inserted in this transaction: nothing existing
    /// can wait for a new run, so a cycle could only lie among the new edges, which the
    /// caller has already checked.
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
        if edges.is_empty() {
            return Ok(0);
        }
        self.execute(sql::DEPS_LOCK_GRAPH, &[])?;
        let plan = self.plan_edges(edges, limits, check_cycles)?;
        self.apply_edges(plan, now)
    }

    /// Checks edges to add against the database (under the graph lock, with the rows
    /// of the runs they name locked), and returns what to write. Each check is one
    /// statement over all the edges, so the cost grows with the edges, never with the
    /// graph squared; the errors are SQLite's, in the same order of precedence.
    fn plan_edges(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        check_cycles: bool,
    ) -> Result<EdgePlan> {
        let mut ids: Vec<RunId> = edges
            .iter()
            .flat_map(|e| [e.upstream, e.downstream])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found: HashMap<RunId, RunStatus> = HashMap::with_capacity(ids.len());
        for row in self.query(sql::DEPS_LOCK_RUNS, &[&raw(ids)])? {
            found.insert(row.try_get("id")?, row.try_get("status")?);
        }
        // In edge order, as SQLite checks them: an edge onto itself, then an unknown
        // upstream, then an unknown downstream.
        let mut status: HashMap<RunId, RunStatus> = HashMap::with_capacity(found.len());
        for edge in edges {
            if edge.downstream == edge.upstream {
                return Err(Error::SelfDependency(edge.downstream));
            }
            for id in [edge.upstream, edge.downstream] {
                if let Entry::Vacant(slot) = status.entry(id) {
                    slot.insert(*found.get(&id).ok_or(Error::UnknownDependency(id))?);
                }
            }
        }
        let existing = self.existing_edges(edges)?;
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
                || existing.contains(&(edge.downstream, edge.upstream))
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
            self.check_fan_in(&fresh, limits)?;
        }
        Ok(EdgePlan { fresh, status })
    }

    /// Which of `edges` are stored already.
    fn existing_edges(&self, edges: &[NewDependency]) -> Result<HashSet<(RunId, RunId)>> {
        let downs = raw(edges.iter().map(|e| e.downstream));
        let ups = raw(edges.iter().map(|e| e.upstream));
        self.query(sql::DEPS_EXISTS, &[&downs, &ups])?
            .iter()
            .map(|r| Ok((r.try_get("downstream_id")?, r.try_get("upstream_id")?)))
            .collect()
    }

    /// The fan-in limit: stored edges plus new ones, per downstream (the first
    /// downstream over it, in the order of the new edges, is the one reported).
    fn check_fan_in(&self, fresh: &[NewDependency], limits: &DependencyLimits) -> Result<()> {
        let mut order = Vec::new();
        let mut fan_in: HashMap<RunId, usize> = HashMap::new();
        for edge in fresh {
            let n = fan_in.entry(edge.downstream).or_insert_with(|| {
                order.push(edge.downstream);
                0
            });
            *n += 1;
        }
        let mut stored: HashMap<RunId, usize> = HashMap::new();
        for row in self.query(sql::DEPS_COUNT_UPSTREAM, &[&raw(order.iter().copied())])? {
            let n: i64 = row.try_get("n")?;
            stored.insert(
                row.try_get("downstream_id")?,
                usize::try_from(n).unwrap_or(usize::MAX),
            );
        }
        for down in order {
            let total = stored
                .get(&down)
                .copied()
                .unwrap_or(0)
                .saturating_add(fan_in[&down]);
            if total > limits.max_fan_in {
                return Err(Error::DependencyLimit {
                    limit: "fan-in",
                    max: limits.max_fan_in,
                    actual: total,
                });
            }
        }
        Ok(())
    }

    /// The position in `fresh` of the first edge that, with the existing edges and the
    /// edges before it, closes a cycle; `None` when they all fit. One walk of the graph
    /// when there is no cycle (the usual case); when there is, a binary search over
    /// prefixes finds the first edge to blame, a walk per step. The stored edges the
    /// walks can reach are loaded once, in one statement.
    fn first_cycle(&self, fresh: &[NewDependency]) -> Result<Option<usize>> {
        if fresh.is_empty() {
            return Ok(None);
        }
        let existing = self.reachable_upstreams(fresh)?;
        if !closes_cycle(fresh, &existing) {
            return Ok(None);
        }
        // The shortest prefix with a cycle ends with the edge to blame.
        let (mut ok, mut bad) = (0, fresh.len());
        while bad - ok > 1 {
            let mid = ok + (bad - ok) / 2;
            if closes_cycle(&fresh[..mid], &existing) {
                bad = mid;
            } else {
                ok = mid;
            }
        }
        Ok(Some(bad - 1))
    }

    /// The stored edges among the ancestors of the runs `fresh` names: every run a walk
    /// along "waits for" from a new edge's downstream can reach is one of them.
    fn reachable_upstreams(&self, fresh: &[NewDependency]) -> Result<ExistingUpstreams> {
        let mut ids: Vec<RunId> = fresh
            .iter()
            .flat_map(|e| [e.downstream, e.upstream])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut existing = ExistingUpstreams::default();
        for row in self.query(sql::DEPS_UPSTREAM_IDS, &[&raw(ids)])? {
            existing
                .0
                .entry(row.try_get("downstream_id")?)
                .or_default()
                .push(row.try_get("upstream_id")?);
        }
        Ok(existing)
    }

    /// Writes the edges of a plan made in this transaction. The edges are inserted in
    /// order, in batches cut after each edge whose upstream had already failed and
    /// cancels its downstream: that cancellation settles the downstream's dependents
    /// through the edges written before it, as SQLite's edge-by-edge inserts do.
    fn apply_edges(&self, plan: EdgePlan, now: OffsetDateTime) -> Result<usize> {
        let EdgePlan { fresh, status } = plan;
        let mut blocking: HashMap<RunId, i64> = HashMap::new();
        let mut start = 0;
        for (i, edge) in fresh.iter().enumerate() {
            match status[&edge.upstream] {
                RunStatus::Completed => {}
                RunStatus::Failed | RunStatus::Cancelled => {
                    if edge.on_failure == OnUpstreamFailure::Cancel {
                        self.insert_edges(&fresh[start..=i], &status, now)?;
                        start = i + 1;
                        self.cancel_upstream_failed(edge.downstream, now)?;
                    }
                }
                RunStatus::Blocked | RunStatus::Pending | RunStatus::Running => {
                    *blocking.entry(edge.downstream).or_default() += 1;
                }
            }
        }
        self.insert_edges(&fresh[start..], &status, now)?;
        if !blocking.is_empty() {
            let mut blocking: Vec<(RunId, i64)> = blocking.into_iter().collect();
            blocking.sort_unstable();
            let ids = raw(blocking.iter().map(|(id, _)| *id));
            let counts: Vec<i64> = blocking.iter().map(|(_, n)| *n).collect();
            // Guarded by status: a downstream cancelled above stays cancelled.
            self.execute(sql::RUNS_BLOCK_BY, &[&ids, &counts])?;
        }
        Ok(fresh.len())
    }

    /// Inserts `edges`, each resolved when its upstream had finished (as planned).
    fn insert_edges(
        &self,
        edges: &[NewDependency],
        status: &HashMap<RunId, RunStatus>,
        now: OffsetDateTime,
    ) -> Result<()> {
        if edges.is_empty() {
            return Ok(());
        }
        let downs = raw(edges.iter().map(|e| e.downstream));
        let ups = raw(edges.iter().map(|e| e.upstream));
        let on_failure: Vec<&str> = edges.iter().map(|e| e.on_failure.as_str()).collect();
        let resolved: Vec<i16> = edges
            .iter()
            .map(|e| flag(status[&e.upstream].is_finished()))
            .collect();
        self.execute(
            sql::DEPS_INSERT,
            &[&downs, &ups, &on_failure, &resolved, &ms(now)],
        )?;
        Ok(())
    }

    /// Cancels a waiting run because an upstream failed, then settles its own
    /// dependents. Returns the number of runs that became pending along the way.
    fn cancel_upstream_failed(&self, run: RunId, now: OffsetDateTime) -> Result<usize> {
        if self.cancel_dependents(&[run], now)?.is_empty() {
            return Ok(0);
        }
        self.settle_dependents(run, false, now)
    }

    /// Settles the edges of a run that just finished. `completed`: every dependent
    /// waiting on it has one upstream fewer. Otherwise (failed for good, or cancelled):
    /// dependents through `run` edges are released the same way, dependents through
    /// `cancel` edges are cancelled (`upstream_failed`), transitively.
    ///
    /// Each edge is resolved once (a locking update of `resolved = 0` edges, which
    /// concurrent settlers of the same run share out) and its dependents updated in one
    /// statement per batch: a run with no unresolved dependents (most runs) costs one
    /// index seek. At most the transaction's budget of edges is settled here
    /// (`SETTLE_EDGES_PER_TX` in all); runs whose dependents are left go to the settle
    /// queue, which [`PgTx::settle_queued`] works through in later transactions, on any
    /// host.
    ///
    /// The caller has written the run's final status in this transaction (which locks
    /// its row: edges added by another host meanwhile wait for it, or were committed
    /// before and are seen here).
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
            let (release, cancel): (Vec<_>, Vec<_>) = edges
                .into_iter()
                .partition(|(_, on_failure)| completed || *on_failure == OnUpstreamFailure::Run);
            unblocked += self.release_one_upstream(release.into_iter().map(|(d, _)| d))?;
            let cancel: Vec<RunId> = cancel.into_iter().map(|(d, _)| d).collect();
            for cancelled in self.cancel_dependents(&cancel, now)? {
                finished.push((cancelled, false));
            }
        }
        Ok(unblocked)
    }

    /// Goes on settling the runs of the settle queue, within this transaction's budget.
    /// A queued run that is no longer finished (retried by hand meanwhile) is dropped:
    /// its dependents still wait for it, and its next ending settles them. Returns true
    /// while runs are left in the queue.
    ///
    /// Runs another transaction is settling are not waited for (each host takes a
    /// different one); when only such runs are left, this returns false, as they are
    /// that transaction's (and back in the queue for the next call if it fails).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn settle_queued(&self, now: OffsetDateTime) -> Result<bool> {
        while self.settle_budget.get() > 0 {
            let Some(row) = self.query_opt(sql::SETTLE_QUEUE_TAKE, &[])? else {
                return Ok(false);
            };
            let run: RunId = row.try_get("run_id")?;
            // Locked (FOR SHARE): the run cannot be retried by hand until this
            // transaction ends, so its edges settle as the ending read here says.
            let status: Option<RunStatus> = self
                .query_opt(sql::SETTLE_QUEUE_RUN_STATUS, &[&run])?
                .map(|r| r.try_get("status"))
                .transpose()?;
            match status {
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
        self.execute(sql::SETTLE_QUEUE_ADD, &[&run])?;
        Ok(())
    }

    /// Marks up to `limit` unresolved edges from `run` resolved; returns each dependent
    /// and what it does on failure.
    fn resolve_edges(&self, run: RunId, limit: usize) -> Result<Vec<(RunId, OnUpstreamFailure)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(sql::DEPS_RESOLVE_EDGES, &[&run, &limit])?
            .iter()
            .map(|r| Ok((r.try_get("downstream_id")?, r.try_get("on_failure")?)))
            .collect()
    }

    /// One upstream of each blocked run of `runs` (each at most once) settled; returns
    /// how many had no other left and are pending now.
    fn release_one_upstream(&self, runs: impl IntoIterator<Item = RunId>) -> Result<usize> {
        let mut ids = raw(runs);
        if ids.is_empty() {
            return Ok(0);
        }
        // In id order, the order every batch of this file locks runs in.
        ids.sort_unstable();
        let mut released = 0;
        for row in self.query(sql::RUNS_RELEASE_ONE_UPSTREAM, &[&ids])? {
            if row.try_get::<_, bool>("released")? {
                released += 1;
            }
        }
        Ok(released)
    }

    /// Cancels those of `runs` still waiting (`upstream_failed`); returns them.
    fn cancel_dependents(&self, runs: &[RunId], now: OffsetDateTime) -> Result<Vec<RunId>> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids = raw(runs.iter().copied());
        ids.sort_unstable();
        self.query(sql::RUNS_CANCEL_UPSTREAM_FAILED, &[&ids, &ms(now)])?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }

    fn has_unresolved_dependents(&self, run: RunId) -> Result<bool> {
        Ok(self
            .query_one(sql::DEPS_HAS_UNRESOLVED_DOWNSTREAM, &[&run])?
            .try_get(0)?)
    }
}

/// Whether the existing graph (acyclic) with `added` has a cycle: an iterative
/// depth-first walk along "waits for" from each added edge's downstream.
fn closes_cycle(added: &[NewDependency], existing: &ExistingUpstreams) -> bool {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        OnPath,
        Done,
    }
    let mut new_ups: HashMap<RunId, Vec<RunId>> = HashMap::new();
    for e in added {
        new_ups.entry(e.downstream).or_default().push(e.upstream);
    }
    let upstreams = |run: RunId| -> Vec<RunId> {
        let mut ups = existing.of(run).to_vec();
        if let Some(more) = new_ups.get(&run) {
            ups.extend(more);
        }
        ups
    };
    let mut marks: HashMap<RunId, Mark> = HashMap::new();
    for start in new_ups.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // (run, its upstreams, the next one to visit)
        let mut path: Vec<(RunId, Vec<RunId>, usize)> = Vec::new();
        marks.insert(*start, Mark::OnPath);
        path.push((*start, upstreams(*start), 0));
        while let Some((run, ups, next)) = path.last_mut() {
            let Some(&up) = ups.get(*next) else {
                marks.insert(*run, Mark::Done);
                path.pop();
                continue;
            };
            *next += 1;
            match marks.get(&up) {
                Some(Mark::OnPath) => return true,
                Some(Mark::Done) => {}
                None => {
                    marks.insert(up, Mark::OnPath);
                    path.push((up, upstreams(up), 0));
                }
            }
        }
    }
    false
}
