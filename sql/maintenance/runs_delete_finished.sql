-- Delete finished runs of one :status that finished before :before, oldest first, at most
-- :batch (after runs_archive_copy.sql when archiving). Their dependency edges and any
-- stray lease go with them (ON DELETE CASCADE).
DELETE FROM task_runs
WHERE id IN (
    SELECT id FROM task_runs
    WHERE status = :status
      AND finished_at IS NOT NULL
      AND finished_at < :before
    ORDER BY finished_at, id
    LIMIT :batch
);
