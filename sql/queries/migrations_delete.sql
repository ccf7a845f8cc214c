DELETE FROM scheduler_migrations WHERE version = :version;
