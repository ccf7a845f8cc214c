-- 0007 workers by clock domain.
--
-- Leases held by workers of another clock domain (another boot of the host, or rows
-- written before 0005) are judged by their wall-clock expiry and reached through their
-- workers (leases_expired_elsewhere.sql). Without this index that query read every
-- workers row of this domain to find the few of another one, inside the rescue's write
-- transaction, once per batch: with many worker rows a rescue of a large backlog held
-- the write lock for most of a second per batch. clock_domain never changes after
-- registration, so heartbeats do not touch this index.
CREATE INDEX workers_clock_domain ON workers (clock_domain);
