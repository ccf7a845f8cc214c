-- Delete finished runs of one :status that finished before :before, oldest first, at most
-- :batch (after runs_archive_copy.sql when archiving). Their dependency edges and any
-- stray lease go with them (ON DELETE CASCADE).
DELETE FROM task_runs
WHERE id IN (
    SELECT id FROM task_runs
    WHERE status = :status
      AND finished_at IS NOT NULL
      AND finished_at < :before
      -- The newest run is kept, so its id is never handed out again (0001, task_runs).
      AND id < (SELECT max(id) FROM task_runs)
    ORDER BY finished_at, id
    LIMIT :batch
);
