-- Gives this session back the server's own limits (those of its configuration, role and
-- database), for work such as migrations that the bounds of a write must not cut short.
RESET lock_timeout;
RESET statement_timeout;
