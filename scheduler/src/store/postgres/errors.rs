//! PostgreSQL's errors as the crate's database-neutral ones: each is given its
//! [kind](DatabaseErrorKind) here, from its SQLSTATE, so that nothing outside this
//! backend decides anything on a PostgreSQL code.

use crate::error::{DatabaseError, DatabaseErrorKind, Error};

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Database(database_error(e))
    }
}

/// The error of a write that could not have what it waited for in time (a lock, a
/// connection of the pool): busy, as a lock timeout of the server is, so callers back
/// off and try again ([`Error::is_busy`]).
pub(crate) fn busy(what: impl Into<String>) -> Error {
    Error::Database(DatabaseError::new(DatabaseErrorKind::Busy, what.into()))
}

/// The error of a connection that broke without the server saying why.
pub(crate) fn unavailable(what: impl Into<String>) -> Error {
    Error::Database(DatabaseError::new(
        DatabaseErrorKind::Unavailable,
        what.into(),
    ))
}

/// `e` with its kind.
pub(crate) fn database_error(e: postgres::Error) -> DatabaseError {
    DatabaseError::new(kind_of(&e), e)
}

fn kind_of(e: &postgres::Error) -> DatabaseErrorKind {
    match e.code() {
        Some(code) => kind_of_sqlstate(code.code()),
        // No SQLSTATE: the connection broke or could not be made.
        None if e.is_closed() => DatabaseErrorKind::Unavailable,
        None => match std::error::Error::source(e) {
            Some(s) if s.is::<std::io::Error>() => DatabaseErrorKind::Unavailable,
            _ => DatabaseErrorKind::Other,
        },
    }
}

/// The kind of a SQLSTATE: its class (the first two characters) decides, but for the
/// few codes of a class that mean something else to a caller.
fn kind_of_sqlstate(code: &str) -> DatabaseErrorKind {
    match code {
        // A serialization failure, a deadlock, a lock or statement timeout: another
        // transaction was in the way, and trying again can succeed.
        "40001" | "40P01" | "55P03" | "57014" => DatabaseErrorKind::Busy,
        "53100" => DatabaseErrorKind::DiskFull,
        "XX001" | "XX002" => DatabaseErrorKind::Corrupt,
        // The server is shutting down or not yet accepting connections.
        "57P01" | "57P02" | "57P03" => DatabaseErrorKind::Unavailable,
        _ => match code.get(..2) {
            // Integrity constraints and data exceptions: the data is refused for good.
            Some("23" | "22") => DatabaseErrorKind::Refused,
            Some("08") => DatabaseErrorKind::Unavailable,
            _ => DatabaseErrorKind::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_become_kinds() {
        for (code, kind) in [
            ("40001", DatabaseErrorKind::Busy),
            ("40P01", DatabaseErrorKind::Busy),
            ("55P03", DatabaseErrorKind::Busy),
            ("53100", DatabaseErrorKind::DiskFull),
            ("XX001", DatabaseErrorKind::Corrupt),
            ("23505", DatabaseErrorKind::Refused),
            ("23514", DatabaseErrorKind::Refused),
            ("22P02", DatabaseErrorKind::Refused),
            ("08006", DatabaseErrorKind::Unavailable),
            ("57P01", DatabaseErrorKind::Unavailable),
            ("42P01", DatabaseErrorKind::Other),
        ] {
            assert_eq!(kind_of_sqlstate(code), kind, "{code}");
        }
    }
}
