// SPDX-License-Identifier: GPL-2.0

//! The access log: a ring of Combined Log Format lines per network namespace,
//! read (and drained) through that namespace's `/proc/net/tux/log`.
//!
//! Logging never blocks the server: a line is appended under a spinlock
//! held for a copy of at most a few hundred bytes, and when the ring is full
//! the line is dropped and counted (`log_dropped` in `/proc/net/tux/stats`)
//! instead of waiting for a reader. Readers get whole lines only.

use crate::{netns::Instance, stats::Stats};
use kernel::{
    bindings,
    net::namespace::Namespace,
    new_spinlock,
    prelude::*,
    sync::{atomic::Relaxed, SpinLock},
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

/// A namespace's access log.
#[pin_data]
pub(crate) struct Log {
    #[pin]
    ring: SpinLock<Ring>,
}

impl Log {
    /// An empty log, with no room: lines are dropped and counted until
    /// [`Log::allocate`].
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Log {
            ring <- new_spinlock!(Ring::EMPTY, "tux::log"),
        })
    }

    /// Gives the ring its room, unless it has it; called when a server starts.
    pub(crate) fn allocate(&self) -> Result {
        if !self.ring.lock().buf.is_empty() {
            return Ok(());
        }
        let buf = KVVec::from_elem(0u8, CAPACITY, GFP_KERNEL)?;
        let mut ring = self.ring.lock();
        if ring.buf.is_empty() {
            ring.buf = buf;
        }
        Ok(())
    }

    /// Appends one line (ending in `\n`), or drops and counts it if the ring is full.
    pub(crate) fn append(&self, line: &[u8], stats: &Stats) {
        if self.ring.lock().push(line) {
            stats.logged.add(1, Relaxed);
        } else {
            stats.log_dropped.add(1, Relaxed);
        }
    }
}

/// `read` of `/proc/net/tux/log`, called by `control.c`: drains whole lines.
///
/// # Safety
///
/// `net` must be a live network namespace (its `/proc/net/tux/log` is being read).
#[no_mangle]
pub(crate) unsafe extern "C" fn tux_log_read(
    net: *mut bindings::net,
    buf: *mut c_char,
    count: usize,
) -> isize {
    // SAFETY: procfs removes the file, and waits for its readers, before the
    // namespace goes.
    let net = unsafe { Namespace::from_raw(net) };
    // A namespace that never used TUX has no instance, so nothing to read; reading
    // makes none.
    let Some(inst) = Instance::find(net) else {
        return 0;
    };
    let want = count.min(MAX_READ);
    let Ok(mut tmp) = KVVec::from_elem(0u8, want, GFP_KERNEL) else {
        return ENOMEM.to_errno() as isize;
    };
    let n = inst.log.ring.lock().pop(&mut tmp);
    let data = tmp.get(..n).unwrap_or(&[]);
    let mut writer = UserSlice::new(UserPtr::from_ptr(buf.cast()), n).writer();
    match writer.write_slice(data) {
        Ok(()) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}
