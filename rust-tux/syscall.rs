// SPDX-License-Identifier: GPL-2.0

//! `tux(2)`: the system call through which userspace controls TUX and
//! answers the requests routed to its modules.
//!
//! The ABI is `abi` (one definition shared with libtux, see
//! `syscall-abi/`); the behaviour of each action is documented in the
//! tux(2) man page. This file checks the caller and the arguments, copies
//! the request block in and out, and calls the registry (`user`) or the
//! connection (`conn::user`). Every user pointer goes through
//! [`UserSlice`]; nothing here trusts a length.

use crate::{
    abi::{self, Action, TuxReq},
    conn::user::current_date,
    netns::Instance,
    user::{Event, Registry},
};
use core::net::IpAddr;
use kernel::{
    bindings, current,
    net::namespace::Namespace,
    prelude::*,
    task::CurrentTask,
    transmute::{AsBytes, FromBytes},
    uaccess::{UserPtr, UserSlice, UserSliceReader, UserSliceWriter},
};

// SAFETY: `TuxReq` is `repr(C)` and made only of integers and integer arrays, with no
// padding (asserted in `abi`): every bit pattern is a valid value.
unsafe impl FromBytes for TuxReq {}
// SAFETY: as above; without padding every byte of a value is initialised.
unsafe impl AsBytes for TuxReq {}

/// The entry point, called by `SYSCALL_DEFINE3(tux, ...)` in `syscall.c`.
#[no_mangle]
pub extern "C" fn tux_syscall(action: c_uint, req: *mut c_void, size: usize) -> c_long {
    if !crate::ready() {
        return ENODEV.to_errno() as c_long;
    }
    match dispatch(action, UserPtr::from_ptr(req), size) {
        Ok(v) => v,
        Err(e) => e.to_errno() as c_long,
    }
}

/// Whether the caller may administer TUX.
fn capable_net_admin() -> bool {
    // SAFETY: `capable` may be called from any process context.
    unsafe { bindings::capable(bindings::CAP_NET_ADMIN as c_int) }
}

/// Whether the caller may act on the TUX of `net`, its own namespace, beyond
/// `QUERY_VERSION`: in the initial namespace anyone may (the admin actions check
/// [`capable_net_admin`]); in another, see `tux_may_control` in `control.c`
/// (CAP_NET_ADMIN over the initial user namespace, or over the namespace's own
/// when `net.tux.userns_control` allows it).
fn may_act(net: &Namespace) -> bool {
    // SAFETY: `net` is alive while borrowed; `tux_may_control` may be called from any
    // process context.
    net.is_init() || unsafe { bindings::tux_may_control(net.as_ptr()) }
}

/// Copies the request block in, with `copy_struct_from_user` semantics.
fn read_req(ptr: UserPtr, size: usize) -> Result<TuxReq> {
    if size < abi::TUX_REQ_SIZE_VER0 {
        return Err(EINVAL);
    }
    if size > abi::TUX_REQ_SIZE_MAX {
        return Err(E2BIG);
    }
    let mut reader = UserSlice::new(ptr, size).reader();
    let req: TuxReq = reader.read()?;
    // Bytes beyond the fields this kernel knows must be zero.
    let mut rest = [0u8; 64];
    while !reader.is_empty() {
        let n = reader.len().min(rest.len());
        let chunk = rest.get_mut(..n).ok_or(EINVAL)?;
        reader.read_slice(chunk)?;
        if chunk.iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
    }
    Ok(req)
}

/// Copies the request block out: at most `size` bytes.
fn write_req(ptr: UserPtr, size: usize, req: &TuxReq) -> Result {
    let n = size.min(core::mem::size_of::<TuxReq>());
    let bytes = req.as_bytes().get(..n).ok_or(EINVAL)?;
    UserSlice::new(ptr, n).writer().write_slice(bytes)
}

/// A user buffer named by a pointer and a length of the request block.
fn user_slice(addr: u64, len: u64) -> Result<UserSlice> {
    let addr = usize::try_from(addr).map_err(|_| EFAULT)?;
    let len = usize::try_from(len).map_err(|_| EINVAL)?;
    Ok(UserSlice::new(UserPtr::from_addr(addr), len))
}

fn reader(addr: u64, len: u64) -> Result<UserSliceReader> {
    Ok(user_slice(addr, len)?.reader())
}

fn writer(addr: u64, len: u64) -> Result<UserSliceWriter> {
    Ok(user_slice(addr, len)?.writer())
}

/// Reads a short name (module prefix, extension, MIME type) into `buf`.
fn read_name<'b>(addr: u64, len: u64, buf: &'b mut [u8]) -> Result<&'b [u8]> {
    if len == 0 || len > abi::TUX_MAX_NAME {
        return Err(EINVAL);
    }
    let n = usize::try_from(len).map_err(|_| EINVAL)?;
    let dst = buf.get_mut(..n).ok_or(EINVAL)?;
    reader(addr, len)?.read_slice(dst)?;
    Ok(dst)
}

fn dispatch(action: c_uint, ptr: UserPtr, size: usize) -> Result<c_long> {
    let action = Action::from_u32(action).ok_or(EINVAL)?;
    if action == Action::QueryVersion {
        return Ok(abi::TUX_VERSION as c_long);
    }
    // Every action acts on the TUX of the caller's network namespace.
    let net = Namespace::current().ok_or(ESRCH)?;
    if !may_act(&net) || (net.is_init() && action.is_admin() && !capable_net_admin()) {
        return Err(EPERM);
    }
    match action {
        Action::Startup => return crate::server_startup(&net).map(|()| 0),
        Action::Shutdown => return crate::server_shutdown(&net).map(|()| 0),
        _ => {}
    }
    let mut req = read_req(ptr, size)?;
    if !abi::version_compatible(abi::TUX_VERSION, req.version) {
        return Err(EPROTO);
    }
    let task = current!();
    let reg = Instance::of(&net)?.user.clone();
    let result = act(action, &mut req, &reg, task);
    match result {
        Ok(Done::Value(v)) => Ok(v),
        Ok(Done::Out(v)) => {
            write_req(ptr, size, &req)?;
            Ok(v)
        }
        Err(e) => {
            if action.is_per_request() {
                req.error = u32::try_from(-e.to_errno()).unwrap_or(0);
                // Best effort: the error code is returned either way.
                let _ = write_req(ptr, size, &req);
            }
            Err(e)
        }
    }
}

/// What an action returns.
enum Done {
    /// A value; the request block is unchanged.
    Value(c_long),
    /// A value; the request block was updated and is copied out.
    Out(c_long),
}

fn act(action: Action, req: &mut TuxReq, reg: &Registry, task: &CurrentTask) -> Result<Done> {
    let mut name_buf = [0u8; abi::TUX_MAX_NAME as usize];
    match action {
        Action::StartThread => reg
            .start_thread(req.thread_nr, task)
            .map(|()| Done::Value(0)),
        Action::StopThread => reg
            .stop_thread(req.thread_nr, task)
            .map(|()| Done::Value(0)),
        Action::EventLoop => match reg.event_loop(task)? {
            Event::Request {
                id,
                module,
                info,
                event,
                private,
            } => {
                req.id = id;
                req.module_index = module;
                req.event = event;
                req.private = private;
                req.http_method = info.method;
                req.http_version = info.version;
                req.http_status = 0;
                req.error = 0;
                req.keep_alive = u32::from(info.keep_alive);
                req.client_port = u32::from(info.peer_port);
                req.client_addr = [0; 16];
                match info.peer {
                    IpAddr::V4(a) => {
                        req.client_family = bindings::AF_INET;
                        if let Some(dst) = req.client_addr.get_mut(..4) {
                            dst.copy_from_slice(&a.octets());
                        }
                    }
                    IpAddr::V6(a) => {
                        req.client_family = bindings::AF_INET6;
                        req.client_addr = a.octets();
                    }
                }
                req.headers_len = info.headers_len;
                req.body_len = info.body_len;
                req.bytes_sent = 0;
                req.object_len = 0;
                req.object_mtime = 0;
                Ok(Done::Out(abi::TUX_RETURN_USERSPACE_REQUEST as c_long))
            }
            Event::Exit => Ok(Done::Value(abi::TUX_RETURN_EXIT as c_long)),
            Event::Signal => Ok(Done::Value(abi::TUX_RETURN_SIGNAL as c_long)),
        },
        Action::RegisterModule => {
            let name = read_name(req.name, req.name_len, &mut name_buf)?;
            reg.register(name, task).map(|i| Done::Value(i as c_long))
        }
        Action::UnregisterModule => {
            let name = read_name(req.name, req.name_len, &mut name_buf)?;
            reg.unregister(name).map(|()| Done::Value(0))
        }
        Action::CurrentDate => {
            let date = current_date();
            if req.buf_len < abi::TUX_DATE_LEN {
                return Err(ENOSPC);
            }
            writer(req.buf, abi::TUX_DATE_LEN)?.write_slice(&date)?;
            Ok(Done::Value(date.len() as c_long))
        }
        Action::RegisterMimetype => {
            let ext = read_name(req.name, req.name_len, &mut name_buf)?;
            let mut type_buf = [0u8; abi::TUX_MAX_NAME as usize];
            let ty = read_name(req.value, req.value_len, &mut type_buf)?;
            reg.register_mimetype(ext, ty).map(|()| Done::Value(0))
        }
        Action::WatchProxySocket => {
            let conn = reg.held(req.id, task)?;
            conn.user_watch_proxy(req.proxy_fd).map(|()| Done::Value(0))
        }
        Action::WaitProxySocket => {
            let conn = reg.held(req.id, task)?;
            conn.user_wait_proxy(task).map(|n| Done::Value(n as c_long))
        }
        Action::PostponeReq => reg
            .postpone(req.id, req.event, req.private, task)
            .map(|()| Done::Value(0)),
        Action::ContinueReq => reg.resume(req.id, task).map(|()| Done::Value(0)),
        Action::FinishReq | Action::FinishCloseReq => {
            let (conn, info) = reg.take(req.id, task)?;
            let close = action == Action::FinishCloseReq;
            conn.user_finish(req.http_status, close, info.keep_alive);
            Ok(Done::Value(0))
        }
        Action::RedirectReq => {
            let conn = reg.held(req.id, task)?;
            let r = conn.user_redirect();
            // Once moved (or lost), the request is no longer the module's.
            if !matches!(r, Err(e) if e != ECONNABORTED) {
                let _ = reg.take(req.id, task);
            }
            r.map(|()| Done::Value(0))
        }
        Action::ReadHeaders => {
            let conn = reg.held(req.id, task)?;
            let n = conn.user_read_headers(writer(req.buf, req.buf_len)?)?;
            Ok(Done::Value(n as c_long))
        }
        Action::ReadPostData => {
            let conn = reg.held(req.id, task)?;
            let n = conn.user_read_body(writer(req.buf, req.buf_len)?)?;
            Ok(Done::Value(n as c_long))
        }
        Action::SendBuffer => {
            let conn = reg.held(req.id, task)?;
            let n = conn.user_send_buffer(reader(req.buf, req.buf_len)?)?;
            req.bytes_sent = req.bytes_sent.saturating_add(n as u64);
            Ok(Done::Out(n as c_long))
        }
        Action::GetObject => {
            let conn = reg.held(req.id, task)?;
            let o = conn.user_get_object(reader(req.name, req.name_len)?)?;
            req.object_len = o.size;
            req.object_mtime = o.mtime;
            Ok(Done::Out(0))
        }
        Action::SendObject => {
            let conn = reg.held(req.id, task)?;
            let n = conn.user_send_object(req.offset, req.buf_len)?;
            req.bytes_sent = req.bytes_sent.saturating_add(n as u64);
            Ok(Done::Out(n as c_long))
        }
        Action::ReadObject => {
            let conn = reg.held(req.id, task)?;
            let n = conn.user_read_object(req.offset, writer(req.buf, req.buf_len)?)?;
            Ok(Done::Value(n as c_long))
        }
        Action::QueryVersion | Action::Startup | Action::Shutdown => Err(EINVAL),
    }
}
