//! Code the server plugs into the app while it runs (the hooks of kiln-hooks: the mailer's, the
//! writes'): each slot is set once and typed by the module that reads it, so `App` itself knows
//! none of those types and stays below them.

use std::any::Any;
use std::sync::OnceLock;

/// One slot: a value of the type its module puts there, set once.
#[derive(Default)]
pub(crate) struct Slot(OnceLock<Box<dyn Any + Send + Sync>>);

impl Slot {
    /// Fills the slot (a second value is ignored).
    pub(crate) fn set<T: Any + Send + Sync>(&self, value: T) {
        let _ = self.0.set(Box::new(value));
    }

    /// The value, if the slot holds one of type `T`.
    pub(crate) fn get<T: Any>(&self) -> Option<&T> {
        self.0.get().and_then(|b| b.downcast_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    trait Plug: Send + Sync {
        fn name(&self) -> &'static str;
    }
    struct A;
    impl Plug for A {
        fn name(&self) -> &'static str {
            "a"
        }
    }

    #[test]
    fn a_slot_gives_back_the_type_it_was_given_once() {
        let slot = Slot::default();
        assert!(slot.get::<Arc<dyn Plug>>().is_none());
        slot.set::<Arc<dyn Plug>>(Arc::new(A));
        slot.set::<Arc<dyn Plug>>(Arc::new(A)); // ignored
        assert_eq!(slot.get::<Arc<dyn Plug>>().map(|p| p.name()), Some("a"));
        assert!(slot.get::<Arc<A>>().is_none(), "another type is not there");
    }
}
