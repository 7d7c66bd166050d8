//! fleetgen patch: a byte budget for what one render builds.
//!
//! Upstream minijinja bounds repetition (`'x' * n`) and `range`, but not concatenation,
//! captured output (`{% set %}…{% endset %}`, macro bodies) or the values filters and
//! functions return, so a template that doubles a string or a list in a loop allocates
//! without bound. Inside [`scope`], every string or sequence the engine builds is charged
//! to a per-thread budget first; once it is spent the operation fails with an error
//! instead of allocating. Outside a scope nothing is charged (upstream behaviour).

use std::cell::Cell;
use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::value::{Value, ValueKind};

thread_local! {
    static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// The size charged for one item of a sequence or map (a [`Value`] is 24 bytes).
pub const ITEM: usize = 24;

/// Runs `f` with a budget of `bytes`; returns its result and whether the budget ran out.
/// Scopes nest: an inner scope is charged on its own and restores the outer one.
pub fn scope<R>(bytes: usize, f: impl FnOnce() -> R) -> (R, bool) {
    let outer = LEFT.with(|l| l.replace(Some(bytes)));
    let outer_spent = SPENT.with(|s| s.replace(false));
    struct Restore(Option<usize>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.with(|l| l.set(self.0));
            SPENT.with(|s| s.set(self.1));
        }
    }
    let restore = Restore(outer, outer_spent);
    let rv = f();
    let spent = SPENT.with(|s| s.get());
    drop(restore);
    (rv, spent)
}

/// What is left of the budget of the current scope (`None`: no scope, no limit).
pub fn left() -> Option<usize> {
    LEFT.with(|l| l.get())
}

/// Whether the budget of the current scope ran out.
pub fn spent() -> bool {
    SPENT.with(|s| s.get())
}

/// Takes `bytes` from the budget, or fails (and marks the budget spent) when it does not
/// have them.
pub fn charge(bytes: usize) -> Result<(), Error> {
    LEFT.with(|l| match l.get() {
        None => Ok(()),
        Some(left) if bytes <= left => {
            l.set(Some(left - bytes));
            Ok(())
        }
        Some(_) => {
            l.set(Some(0));
            SPENT.with(|s| s.set(true));
            Err(exhausted())
        }
    })
}

/// The error of a spent budget.
pub fn exhausted() -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        "the template built more text or items than one render may",
    )
}

/// Charges what a value returned by a filter, function or method holds at its top level.
pub(crate) fn charge_value(value: &Value) -> Result<(), Error> {
    if left().is_none() {
        return Ok(());
    }
    let size = match value.kind() {
        ValueKind::String | ValueKind::Bytes => value.as_str().map_or(0, str::len),
        ValueKind::Seq | ValueKind::Map => value.len().unwrap_or(0).saturating_mul(ITEM),
        _ => 0,
    };
    charge(size)
}

/// A writer that counts what goes through it and fails past `limit`, without keeping it:
/// the size of a value's text, measured before anything is allocated for it.
pub struct Measure {
    /// Bytes written so far.
    pub len: usize,
    /// Bytes after which writing fails.
    pub limit: usize,
}

impl fmt::Write for Measure {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len = self.len.saturating_add(s.len());
        if self.len > self.limit {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// The length of `value`'s text if it fits in what is left of the budget; an error (the
/// budget marked spent) otherwise. Nothing is allocated.
pub fn measure(value: &dyn fmt::Display) -> Result<usize, Error> {
    let Some(limit) = left() else {
        return Ok(0);
    };
    let mut m = Measure { len: 0, limit };
    match fmt::write(&mut m, format_args!("{value}")) {
        Ok(()) => Ok(m.len),
        Err(_) => {
            let _ = charge(usize::MAX);
            Err(exhausted())
        }
    }
}
