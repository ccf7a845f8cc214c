-- Listen for the notifications the triggers of migration 0003 send (channel `runloom`),
-- on the scheduler's own notification connection.
LISTEN runloom;
