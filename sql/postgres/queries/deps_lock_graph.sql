-- One graph edit at a time, until its transaction ends: adding edges (with the cycle,
-- fan-in and exists checks made just before) takes this first, so two hosts cannot
-- each add half of a cycle, or count the same fan-in twice, from snapshots that miss
-- each other's edges. Settling does not take it: it only resolves edges, row by row
-- (deps_resolve_edges.sql). The keys are ours: 29292 ("rl") and 2 (the graph);
-- (29292, 6908263) is the migrations' lock.
SELECT pg_advisory_xact_lock(29292, 2);
