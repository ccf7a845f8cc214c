//! Property tests over random dependency graphs: what a batch accepts is exactly what
//! has no cycle, and the stored edges are those accepted. The behavioural dependency
//! tests, on any backend, are in `tests/behaviour/dependencies.rs`.

mod common;

use std::{collections::HashMap, time::Duration};

use common::{
    TestDb, builder,
    jobs::{Record, log_of},
    wait_for,
};
use proptest::prelude::*;
use runloom::{DependencyLimits, Error, NewDependency, RunId, Scheduler};

const WAIT: Duration = Duration::from_secs(20);

fn rec(test: &str, label: impl Into<String>) -> Record {
    Record {
        test: test.into(),
        label: label.into(),
    }
}

fn wait_finished(s: &Scheduler, ids: &[RunId]) -> bool {
    wait_for(WAIT, || {
        ids.iter()
            .all(|id| s.run(*id).unwrap().status.is_finished())
    })
}

/// Random graphs over `n` jobs: `edges[i]` lists the upstreams of job `i`, any index.
fn graphs() -> impl Strategy<Value = (usize, Vec<Vec<usize>>)> {
    (2usize..10).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(proptest::collection::vec(0..n, 0..3), n),
        )
    })
}

fn has_cycle(n: usize, ups: &[Vec<usize>]) -> bool {
    // Depth-first search for a back edge.
    fn visit(i: usize, ups: &[Vec<usize>], state: &mut [u8]) -> bool {
        state[i] = 1;
        for &u in &ups[i] {
            if state[u] == 1 || (state[u] == 0 && visit(u, ups, state)) {
                return true;
            }
        }
        state[i] = 2;
        false
    }
    let mut state = vec![0u8; n];
    (0..n).any(|i| state[i] == 0 && visit(i, ups, &mut state))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// No cycle is ever accepted, and an accepted graph executes in an order consistent
    /// with its edges.
    #[test]
    fn random_graphs_are_refused_if_cyclic_and_otherwise_run_in_order((n, ups) in graphs()) {
        let db = TestDb::new();
        let test = format!("prop-{}", db.path.display());
        let s = builder(&db).worker_threads(3).register::<Record>().start().unwrap();
        let mut b = s.batch();
        let refs: Vec<_> = (0..n).map(|i| b.add(rec(&test, i.to_string())).unwrap()).collect();
        for (i, list) in ups.iter().enumerate() {
            for &u in list {
                if u == i {
                    prop_assert!(b.depends_on(refs[i], refs[u]).is_err());
                } else {
                    b.depends_on(refs[i], refs[u]).unwrap();
                }
            }
        }
        let ups_no_self: Vec<Vec<usize>> = ups
            .iter()
            .enumerate()
            .map(|(i, l)| l.iter().copied().filter(|u| *u != i).collect())
            .collect();
        let cyclic = has_cycle(n, &ups_no_self);
        match b.submit() {
            Err(Error::InvalidBatch { .. }) => {
                prop_assert!(cyclic, "an acyclic graph was refused");
                prop_assert_eq!(s.stats().unwrap().counts.total(), 0);
            }
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
            Ok(runs) => {
                prop_assert!(!cyclic, "a cyclic graph was accepted");
                let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
                prop_assert!(wait_finished(&s, &ids));
                let log = log_of(&test);
                let at: HashMap<String, usize> =
                    log.iter().enumerate().map(|(p, l)| (l.clone(), p)).collect();
                prop_assert_eq!(at.len(), n);
                for (i, list) in ups_no_self.iter().enumerate() {
                    for u in list {
                        prop_assert!(at[&u.to_string()] < at[&i.to_string()], "{} ran before its upstream {}", i, u);
                    }
                }
            }
        }
    }

    /// Edges added one at a time between existing runs (the path with a cycle query per
    /// edge): a call is refused exactly when it would close a cycle, and then writes
    /// nothing.
    #[test]
    fn adding_edges_to_existing_runs_never_accepts_a_cycle((n, ups) in graphs()) {
        let store = runloom::store::Store::open(runloom::store::StoreOptions::memory()).unwrap();
        let now = common::T0;
        let runs: Vec<runloom::store::NewRun> =
            (0..n).map(|_| runloom::store::NewRun::new("t", "{}", now)).collect();
        let ids: Vec<RunId> = store
            .write(|tx| tx.insert_runs(&runs, now))
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        let mut accepted: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, list) in ups.iter().enumerate() {
            for &u in list {
                let result = store.write(|tx| {
                    tx.add_dependencies(&[NewDependency::new(ids[i], ids[u])], &DependencyLimits::default(), now)
                });
                let mut with = accepted.clone();
                if !with[i].contains(&u) {
                    with[i].push(u);
                }
                let would_cycle = u == i || has_cycle(n, &with);
                match result {
                    Ok(_) => {
                        prop_assert!(!would_cycle, "edge {}->{} closed a cycle", i, u);
                        accepted = with;
                    }
                    Err(Error::SelfDependency(_) | Error::DependencyCycle { .. }) => {
                        prop_assert!(would_cycle, "edge {}->{} refused without a cycle", i, u);
                    }
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                }
                let stored: usize = ids
                    .iter()
                    .map(|id| store.read(|tx| tx.upstream_of(*id)).unwrap().len())
                    .sum();
                prop_assert_eq!(stored, accepted.iter().map(Vec::len).sum::<usize>());
            }
        }
    }
}
