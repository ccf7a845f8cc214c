SELECT value FROM system_state WHERE key = :key;
