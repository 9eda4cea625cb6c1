//! The built-in tasks of the stock binary.

pub mod demo;

use crate::worker::Registry;

/// A registry with every built-in task.
pub fn builtin() -> Registry {
    let mut r = Registry::new();
    r.register(demo::ProcessItem)
        .register(demo::Fail)
        .register(demo::Sleep);
    r
}
