// SPDX-License-Identifier: GPL-2.0

//! Clocks: wall-clock seconds for `Date`/`Last-Modified`, monotonic
//! milliseconds for timeouts.

use kernel::bindings;

/// Seconds since the epoch (for HTTP dates); 0 before 1970.
pub(crate) fn real_seconds() -> u64 {
    // SAFETY: `ktime_get_real_seconds` has no preconditions.
    let s = unsafe { bindings::ktime_get_real_seconds() };
    u64::try_from(s).unwrap_or(0)
}

/// Monotonic milliseconds since boot.
pub(crate) fn monotonic_ms() -> i64 {
    // SAFETY: `ktime_get` has no preconditions.
    let ns = unsafe { bindings::ktime_get() };
    ns / 1_000_000
}
