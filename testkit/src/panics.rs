//! Panics that a caller contains: a worker that checks one object catches a panic and reports
//! it as an internal error for that object, while the run goes on. The command line's panic
//! hook ends the process on any other panic (a bug, exit 2); [`is_contained`] tells it that
//! this one is caught, so the hook only reports it and lets the worker's `catch_unwind` run.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

thread_local! {
    /// How many [`contain`] calls are running on this thread.
    static CONTAINING: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic inside it; while it runs, [`is_contained`] is true on this
/// thread. The panic hook still runs first (and may report the panic).
pub fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    CONTAINING.with(|c| c.set(c.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(c.get() - 1));
    result
}

/// Whether a panic on this thread now would be caught by [`contain`]: for panic hooks.
pub fn is_contained() -> bool {
    CONTAINING.with(|c| c.get() > 0)
}

/// The environment variable that makes `guardrailc check` panic while it checks an object
/// whose text contains its value: the one way to show, through the real binary, that a
/// worker's panic is reported as an internal error for that object (docs/testing.md). Unset
/// or empty, nothing happens.
pub const INJECT_CHECK_PANIC: &str = "GUARDRAILC_INJECT_CHECK_PANIC";

/// Panics when [`INJECT_CHECK_PANIC`] is set and `text` contains its value.
pub fn injected_check_panic(text: &str) {
    static MARKER: OnceLock<Option<String>> = OnceLock::new();
    let marker = MARKER.get_or_init(|| {
        std::env::var(INJECT_CHECK_PANIC)
            .ok()
            .filter(|value| !value.is_empty())
    });
    if let Some(marker) = marker {
        if text.contains(marker.as_str()) {
            panic!("{INJECT_CHECK_PANIC}: injected panic while checking an object");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_panic_is_caught_and_known_as_contained_while_it_runs() {
        assert!(!is_contained());
        assert_eq!(contain(is_contained).ok(), Some(true));
        assert!(contain(|| panic!("boom")).is_err());
        assert!(!is_contained(), "the count is restored after a panic");
    }
}
