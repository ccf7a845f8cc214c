INSERT INTO workers (name, host, pid, threads, version, status, started_at, last_heartbeat, updated_at)
VALUES (:name, :host, :pid, :threads, :version, 'active', :now, :now, :now);
