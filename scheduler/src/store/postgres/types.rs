//! How the model's values travel to and from PostgreSQL: ids as `bigint`, closed sets
//! as their `text` (CHECK-constrained by the schema), flags as `smallint` 0/1, JSON
//! documents as `jsonb` sent and read as text (cast in the statements), times as
//! `bigint` milliseconds (see `backend::values`).

use std::error::Error as StdError;

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::model::{
    AttemptErrorKind, MisfirePolicy, OnUpstreamFailure, RunId, RunStatus, TaskId, WorkerId,
    WorkerStatus,
};

type BoxError = Box<dyn StdError + Sync + Send>;

macro_rules! pg_id {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
                self.get().to_sql(ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                <i64 as ToSql>::accepts(ty)
            }

            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $name {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                i64::from_sql(ty, raw).map($name::new)
            }

            fn accepts(ty: &Type) -> bool {
                <i64 as FromSql>::accepts(ty)
            }
        }
    )*};
}

pg_id!(RunId, TaskId, WorkerId);

macro_rules! pg_text {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
                self.as_str().to_sql(ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                <&str as ToSql>::accepts(ty)
            }

            to_sql_checked!();
        }

        impl<'a> FromSql<'a> for $name {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                Ok(<&str as FromSql>::from_sql(ty, raw)?.parse()?)
            }

            fn accepts(ty: &Type) -> bool {
                <&str as FromSql>::accepts(ty)
            }
        }
    )*};
}

pg_text!(
    RunStatus,
    AttemptErrorKind,
    OnUpstreamFailure,
    WorkerStatus,
    MisfirePolicy
);

/// A flag as the schema stores it (`smallint` 0/1).
pub(crate) fn flag(b: bool) -> i16 {
    i16::from(b)
}
