// SPDX-License-Identifier: GPL-2.0

//! In-kernel handlers: kernel code answering a URL prefix.
//!
//! Built-in code and loadable modules register through
//! `tux_handler_register()` (`control.c`, exported; `kernel::net::tux` is
//! the Rust API over it). A request under a registered prefix is answered
//! by calling the handler from the connection's worker; the handler writes
//! a bounded body, the connection sends it with a head planned by the HTTP
//! core. Calls in flight are counted per handler, and unregistering waits
//! until none runs, so that a module's code and data outlive every call.

use crate::{http::plan, netns::Instance};
use kernel::{
    bindings, new_condvar, new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, CondVar, Mutex,
    },
};

/// Most in-kernel handlers registered at once.
const MAX_HANDLERS: usize = 16;

/// Calls in flight of one handler.
#[pin_data]
struct Inflight {
    #[pin]
    count: Mutex<usize>,
    #[pin]
    idle: CondVar,
}

struct Entry {
    id: u64,
    prefix: KVec<u8>,
    ops: *const bindings::tux_handler_ops,
    data: *mut c_void,
    inflight: Arc<Inflight>,
}

// SAFETY: `ops` and `data` are owned by the registrant, who promises (in
// `tux_handler_register`'s contract) that they may be used from any thread until
// unregistration.
unsafe impl Send for Entry {}

struct Handlers {
    next_id: u64,
    entries: KVec<Entry>,
}

kernel::sync::global_lock! {
    // SAFETY: initialised in `init`, from the module's init, before the exported
    // registration functions can be called or connections accepted.
    unsafe(uninit) static HANDLERS: Mutex<Handlers> = Handlers { next_id: 1, entries: KVec::new() };
}

/// Number of registered handlers: the request path skips the lock when 0.
static COUNT: Atomic<usize> = Atomic::new(0);

/// Initialises the registry's lock.
///
/// # Safety
///
/// Must be called once, before anything else uses `HANDLERS`.
pub(crate) unsafe fn init_lock() {
    // SAFETY: by the safety requirements.
    unsafe { HANDLERS.init() };
}

/// A handler found for a request; the call it allows is counted until drop.
pub(crate) struct Call {
    ops: *const bindings::tux_handler_ops,
    data: *mut c_void,
    inflight: Arc<Inflight>,
}

impl Call {
    /// Calls the handler for `path` (resolved) and `query`; the body goes to `buf`.
    /// Returns the body length and the content type, which is copied out before the
    /// call ends (it may live in a module's memory).
    pub(crate) fn handle(
        &self,
        path: &[u8],
        query: Option<&[u8]>,
        method: u32,
        buf: &mut [u8],
        content_type: &mut [u8; 128],
    ) -> Result<(usize, usize)> {
        let req = bindings::tux_kreq {
            path: path.as_ptr(),
            path_len: path.len(),
            query: query.map_or(core::ptr::null(), |q| q.as_ptr()),
            query_len: query.map_or(0, |q| q.len()),
            method,
        };
        let mut resp = bindings::tux_kresp {
            buf: buf.as_mut_ptr(),
            cap: buf.len(),
            len: 0,
            content_type: core::ptr::null(),
        };
        // SAFETY: `ops` is valid until unregistration, which waits for this call (we are
        // counted in `inflight`).
        let handle = unsafe { (*self.ops).handle }.ok_or(EINVAL)?;
        // SAFETY: the handler's contract: `req`'s slices and `buf` are valid for the call.
        let ret = unsafe { handle(self.data, &req, &mut resp) };
        kernel::error::to_result(ret)?;
        if resp.len > buf.len() {
            return Err(EINVAL);
        }
        let mut ct_len = 0;
        if !resp.content_type.is_null() {
            // SAFETY: the handler returns a NUL-terminated string in static storage,
            // valid at least until its unregistration.
            let ct = unsafe { CStr::from_char_ptr(resp.content_type) }.to_bytes();
            if let Some(dst) = content_type.get_mut(..ct.len()) {
                dst.copy_from_slice(ct);
                ct_len = ct.len();
            }
        }
        Ok((resp.len, ct_len))
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let mut n = self.inflight.count.lock();
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.inflight.idle.notify_all();
        }
    }
}

/// Whether any handler is registered (without the lock): the request path
/// resolves nothing for handlers when there are none.
pub(crate) fn any() -> bool {
    COUNT.load(Relaxed) != 0
}

/// The handler whose prefix covers `path` (resolved, without the leading `/`).
pub(crate) fn find(path: &[u8]) -> Option<Call> {
    if COUNT.load(Relaxed) == 0 {
        return None;
    }
    let handlers = HANDLERS.lock();
    let e = handlers
        .entries
        .iter()
        .find(|e| plan::prefix_covers(&e.prefix, path))?;
    *e.inflight.count.lock() += 1;
    Some(Call {
        ops: e.ops,
        data: e.data,
        inflight: e.inflight.clone(),
    })
}

fn register(
    prefix: &[u8],
    ops: *const bindings::tux_handler_ops,
    data: *mut c_void,
) -> Result<u64> {
    let prefix = plan::module_prefix(prefix).ok_or(EINVAL)?;
    // Classic module names stand for files of userspace modules only.
    if ops.is_null() || plan::is_module_file(prefix) {
        return Err(EINVAL);
    }
    let name = crate::user::owned(prefix)?;
    let inflight = Arc::pin_init(
        pin_init!(Inflight {
            count <- new_mutex!(0),
            idle <- new_condvar!("tux::khandler::idle"),
        }),
        GFP_KERNEL,
    )?;
    let mut handlers = HANDLERS.lock();
    if handlers
        .entries
        .iter()
        .any(|e| e.prefix.as_slice() == prefix)
    {
        return Err(EEXIST);
    }
    if handlers.entries.len() >= MAX_HANDLERS {
        return Err(ENOSPC);
    }
    let id = handlers.next_id;
    handlers.entries.push(
        Entry {
            id,
            prefix: name,
            ops,
            data,
            inflight,
        },
        GFP_KERNEL,
    )?;
    handlers.next_id = id.wrapping_add(1);
    COUNT.store(handlers.entries.len(), Relaxed);
    Ok(id)
}

/// Registers an in-kernel handler (called by `tux_handler_register`).
///
/// # Safety
///
/// `prefix` must be readable for `len` bytes and `id` writable; `ops` and `data` must
/// stay valid, and usable from any thread, until `tux_rs_handler_unregister(*id)`
/// returns.
#[no_mangle]
pub unsafe extern "C" fn tux_rs_handler_register(
    prefix: *const u8,
    len: usize,
    ops: *const bindings::tux_handler_ops,
    data: *mut c_void,
    id: *mut u64,
) -> c_int {
    if prefix.is_null() || id.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: readable for `len` bytes by the safety requirements.
    let prefix = unsafe { core::slice::from_raw_parts(prefix, len) };
    match register(prefix, ops, data) {
        Ok(new) => {
            // SAFETY: writable by the safety requirements.
            unsafe { *id = new };
            pr_info!(
                "in-kernel handler for {} registered\n",
                kernel::str::BStr::from_bytes(prefix)
            );
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Unregisters handler `id` and waits until no call of it runs.
#[no_mangle]
pub extern "C" fn tux_rs_handler_unregister(id: u64) {
    let removed = {
        let mut handlers = HANDLERS.lock();
        let i = handlers.entries.iter().position(|e| e.id == id);
        let removed = i.and_then(|i| handlers.entries.remove(i).ok());
        COUNT.store(handlers.entries.len(), Relaxed);
        removed
    };
    let Some(e) = removed else {
        return;
    };
    let mut n = e.inflight.count.lock();
    while *n > 0 {
        e.inflight.idle.wait(&mut n);
    }
}

/// Fills `s` with the counters of the initial network namespace's TUX (called by
/// `tux_stats_read`); all zero if it was never used.
///
/// # Safety
///
/// `s` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn tux_rs_stats_read(s: *mut bindings::tux_stats_snapshot) {
    if s.is_null() {
        return;
    }
    let inst = Instance::find(kernel::net::namespace::Namespace::init_ns());
    let zero = crate::stats::Stats::new();
    let st = inst.as_ref().map_or(&zero, |i| &i.stats);
    let snapshot = bindings::tux_stats_snapshot {
        requests: st.requests.load(Relaxed),
        connections_total: st.connections_total.load(Relaxed),
        connections_open: st.connections_open.load(Relaxed),
        bytes_sent: st.bytes_sent.load(Relaxed),
        module_requests: st.module_requests.load(Relaxed),
        handoffs: st.handoffs.load(Relaxed),
    };
    // SAFETY: valid for writes by the safety requirements.
    unsafe { s.write(snapshot) };
}
