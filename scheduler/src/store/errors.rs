//! SQLite's errors as the crate's database-neutral ones: each is given its
//! [kind](DatabaseErrorKind) here, from SQLite's codes, so that nothing outside the
//! store decides anything on a SQLite code.

use rusqlite::ErrorCode;

use crate::error::{DatabaseError, DatabaseErrorKind, Error};

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(database_error(e))
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Database(DatabaseError::new(DatabaseErrorKind::Unavailable, e))
    }
}

/// `e` with its kind.
pub(crate) fn database_error(e: rusqlite::Error) -> DatabaseError {
    DatabaseError::new(kind_of(&e), e)
}

fn kind_of(e: &rusqlite::Error) -> DatabaseErrorKind {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DatabaseErrorKind::Busy,
            ErrorCode::DiskFull => DatabaseErrorKind::DiskFull,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => DatabaseErrorKind::Corrupt,
            ErrorCode::ConstraintViolation
            | ErrorCode::TooBig
            | ErrorCode::TypeMismatch
            | ErrorCode::ParameterOutOfRange => DatabaseErrorKind::Refused,
            _ => DatabaseErrorKind::Other,
        },
        // The data could not even be encoded or read back as its type.
        rusqlite::Error::ToSqlConversionFailure(_)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => DatabaseErrorKind::Refused,
        _ => DatabaseErrorKind::Other,
    }
}

/// SQLite's own error code behind `e`, if SQLite reported it.
pub(crate) fn sqlite_code(e: &DatabaseError) -> Option<ErrorCode> {
    e.cause_as::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::ffi::c_int) -> Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None).into()
    }

    #[test]
    fn sqlite_codes_become_kinds() {
        assert!(failure(rusqlite::ffi::SQLITE_BUSY).is_busy());
        assert!(failure(rusqlite::ffi::SQLITE_LOCKED).is_busy());
        assert!(failure(rusqlite::ffi::SQLITE_FULL).is_disk_full());
        assert!(failure(rusqlite::ffi::SQLITE_CORRUPT).is_corrupt());
        assert!(failure(rusqlite::ffi::SQLITE_NOTADB).is_corrupt());
        for (code, kind) in [
            (rusqlite::ffi::SQLITE_CONSTRAINT, DatabaseErrorKind::Refused),
            (rusqlite::ffi::SQLITE_TOOBIG, DatabaseErrorKind::Refused),
            (rusqlite::ffi::SQLITE_IOERR, DatabaseErrorKind::Other),
        ] {
            match failure(code) {
                Error::Database(e) => assert_eq!(e.kind(), kind, "{code}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
