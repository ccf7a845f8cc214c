//! The ids of the three kinds of record: runs, task definitions and scheduler
//! instances. Each is its own type, so a run id is never passed where a task id belongs.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id as stored in the database.
            #[must_use]
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            /// The raw id as stored in the database.
            #[must_use]
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }


    };
}

id_type!(
    /// The id of a run (a row of `task_runs`). Never reused, even after the run is
    /// archived.
    RunId
);
id_type!(
    /// The id of a task definition (a row of `tasks`).
    TaskId
);
id_type!(
    /// The id of a scheduler instance (a row of `workers`). Never reused.
    WorkerId
);
