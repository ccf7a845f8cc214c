//! Every SQL statement of the PostgreSQL backend, embedded from `sql/postgres/` at
//! compile time: the only place its SQL text enters the Rust code. Parameters are
//! positional (`$1`), PostgreSQL's only form; each file says what they are.

macro_rules! statements {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[doc = concat!("`sql/postgres/", $path, "`")]
            pub(crate) const $name: &str =
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/postgres/", $path));
        )*
    };
}

statements! {
    MIGRATIONS_CREATE_TABLE => "queries/migrations_create_table.sql",
    MIGRATIONS_DELETE => "queries/migrations_delete.sql",
    MIGRATIONS_INSERT => "queries/migrations_insert.sql",
    MIGRATIONS_LIST => "queries/migrations_list.sql",
    MIGRATIONS_LOCK => "queries/migrations_lock.sql",
    MIGRATIONS_LOCK_SHARED => "queries/migrations_lock_shared.sql",
    MIGRATIONS_TABLE_EXISTS => "queries/migrations_table_exists.sql",
    SCHEMA_CLASHING_OBJECT => "queries/schema_clashing_object.sql",
}

crate::backend::migrations::embedded_migrations! {
    MIGRATIONS, "postgres/migrations";
    1 "0001" "initial_schema",
}
