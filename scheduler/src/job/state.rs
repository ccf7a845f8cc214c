//! The application's state that jobs read: pools, HTTP clients, configuration, given
//! once to the builder ([`crate::SchedulerBuilder::state`]) and shared by every attempt
//! ([`crate::JobContext::state`]), so a job needs no global.
//!
//! Values are keyed by their type, as axum's extensions and actix's `app_data` are: one
//! value per type, the type itself being the name. A job type that declares what it
//! reads ([`crate::Job::required_state`], `#[job(state = "...")]`) is checked when the
//! scheduler starts, so a missing value is a start-up error instead of a failed run.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt,
    sync::Arc,
};

/// A type of application state a job type reads, named by
/// [`Job::required_state`](crate::Job::required_state).
///
/// ```
/// use runloom::StateType;
///
/// struct Mailer;
/// let t = StateType::of::<Mailer>();
/// assert!(t.name().ends_with("Mailer"));
/// assert_eq!(t, StateType::of::<Mailer>());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateType {
    id: TypeId,
    name: &'static str,
}

impl StateType {
    /// The state type `T`.
    #[must_use]
    pub fn of<T: Send + Sync + 'static>() -> Self {
        StateType {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
        }
    }

    /// The type's name, as the compiler spells it (for messages).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for StateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The values given to the builder, by type. Cloning shares them.
#[derive(Clone, Default)]
pub(crate) struct AppState {
    values: HashMap<TypeId, Entry>,
}

#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    name: &'static str,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.values.values().map(|e| e.name).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}

impl AppState {
    /// Adds `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(
            TypeId::of::<T>(),
            Entry {
                value: Arc::new(value),
                name: std::any::type_name::<T>(),
            },
        );
    }

    /// The value of type `T`, if one was given.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|e| e.value.downcast_ref::<T>())
    }

    /// Whether a value of this type was given.
    pub(crate) fn contains(&self, t: StateType) -> bool {
        self.values.contains_key(&t.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_type_and_a_later_one_replaces_an_earlier() {
        let mut s = AppState::default();
        s.insert(7_u32);
        s.insert(String::from("a"));
        s.insert(String::from("b"));
        assert_eq!(s.get::<u32>(), Some(&7));
        assert_eq!(s.get::<String>().map(String::as_str), Some("b"));
        assert_eq!(s.get::<u64>(), None);
        assert!(s.contains(StateType::of::<u32>()));
        assert!(!s.contains(StateType::of::<i32>()));
        assert_eq!(format!("{s:?}"), r#"{"alloc::string::String", "u32"}"#);
    }
}
