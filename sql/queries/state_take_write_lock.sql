-- A statement that writes nothing but, like every write, takes the database's write lock
-- (waiting for it with the connection's busy handler): how a host's deferred
-- transaction that has not read yet gets the lock before the scheduler writes in it.
UPDATE system_state SET value = value WHERE 0;
