DELETE FROM scheduler_migrations WHERE version = $1;
