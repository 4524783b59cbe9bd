// SPDX-License-Identifier: GPL-2.0

//! The access log: a ring of Combined Log Format lines, read (and drained)
//! through `/proc/net/tux/log`.
//!
//! Logging never blocks the server: a line is appended under a spinlock
//! held for a copy of at most a few hundred bytes, and when the ring is full
//! the line is dropped and counted (`log_dropped` in `/proc/net/tux/stats`)
//! instead of waiting for a reader. Readers get whole lines only.

use crate::stats::STATS;
use kernel::{
    prelude::*,
    sync::atomic::Relaxed,
    uaccess::{UserPtr, UserSlice},
};

/// Ring capacity in bytes.
const CAPACITY: usize = 256 * 1024;
/// Most bytes handed to one `read(2)`.
const MAX_READ: usize = 64 * 1024;

/// Bytes of log lines, oldest first from `start`, wrapping at `buf.len()`.
pub(crate) struct Ring {
    buf: KVVec<u8>,
    start: usize,
    len: usize,
}

impl Ring {
    const EMPTY: Ring = Ring {
        buf: KVVec::new(),
        start: 0,
        len: 0,
    };

    fn push(&mut self, line: &[u8]) -> bool {
        let cap = self.buf.len();
        if cap == 0 || line.len() > cap.saturating_sub(self.len) {
            return false;
        }
        let mut at = (self.start + self.len) % cap;
        for &b in line {
            if let Some(slot) = self.buf.get_mut(at) {
                *slot = b;
            }
            at = (at + 1) % cap;
        }
        self.len += line.len();
        true
    }

    /// Moves the oldest whole lines that fit into `out`; returns their length.
    fn pop(&mut self, out: &mut [u8]) -> usize {
        let cap = self.buf.len();
        if cap == 0 {
            return 0;
        }
        // `start < cap` and `len <= cap`, so the index sums below cannot overflow.
        let mut n = 0;
        let mut whole = 0;
        while n < self.len && n < out.len() {
            let b = self
                .buf
                .get((self.start + n) % cap)
                .copied()
                .unwrap_or(b'\n');
            if let Some(o) = out.get_mut(n) {
                *o = b;
            }
            n += 1;
            if b == b'\n' {
                whole = n;
            }
        }
        self.start = (self.start + whole) % cap;
        self.len -= whole;
        whole
    }
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init_lock`, first thing in `Tux::init`, before the
    // server or `/proc/net/tux/log` can use it.
    unsafe(uninit) static LOG: SpinLock<Ring> = Ring::EMPTY;
}

/// Initialises the ring's lock (with no room: lines are dropped and counted).
///
/// # Safety
///
/// Must be called once, before any other use of `LOG`.
pub(crate) unsafe fn init_lock() {
    // SAFETY: by the safety requirements.
    unsafe { LOG.init() };
}

/// Allocates the ring; called once at initialisation, after [`init_lock`].
pub(crate) fn init() -> Result {
    let buf = KVVec::from_elem(0u8, CAPACITY, GFP_KERNEL)?;
    LOG.lock().buf = buf;
    Ok(())
}

/// Appends one line (ending in `\n`), or drops and counts it if the ring is full.
pub(crate) fn append(line: &[u8]) {
    if LOG.lock().push(line) {
        STATS.logged.add(1, Relaxed);
    } else {
        STATS.log_dropped.add(1, Relaxed);
    }
}

/// `read` of `/proc/net/tux/log`, called by `control.c`: drains whole lines.
#[no_mangle]
pub(crate) extern "C" fn tux_log_read(buf: *mut c_char, count: usize) -> isize {
    let want = count.min(MAX_READ);
    let Ok(mut tmp) = KVVec::from_elem(0u8, want, GFP_KERNEL) else {
        return ENOMEM.to_errno() as isize;
    };
    let n = LOG.lock().pop(&mut tmp);
    let data = tmp.get(..n).unwrap_or(&[]);
    let mut writer = UserSlice::new(UserPtr::from_ptr(buf.cast()), n).writer();
    match writer.write_slice(data) {
        Ok(()) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}
