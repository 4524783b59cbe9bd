// SPDX-License-Identifier: GPL-2.0

//! The raw system call: `long tux(unsigned int action, struct tux_req *req, size_t size)`.
//!
//! Nothing here knows what an action means; [`tux`] only passes the request
//! block with the right size and version and turns `-errno` into
//! [`Errno`]. Everything else in libtux is built on it.

use core::fmt;
use tux_abi::{Action, TuxReq, TUX_VERSION};

/// The system call number of `tux(2)` (x86_64 and the generic table).
pub const SYS_TUX: libc::c_long = tux_abi::NR_TUX;

/// An error number returned by the kernel (positive, e.g. `libc::ENOENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The symbolic name (`"ENOENT"`) of the common error numbers.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::EBADF => "EBADF",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::EINVAL => "EINVAL",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::ENOSYS => "ENOSYS",
            libc::E2BIG => "E2BIG",
            libc::EPROTO => "EPROTO",
            libc::ENOTSOCK => "ENOTSOCK",
            libc::EADDRINUSE => "EADDRINUSE",
            libc::ECONNREFUSED => "ECONNREFUSED",
            libc::EPIPE => "EPIPE",
            libc::ECONNRESET => "ECONNRESET",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            _ => return None,
        })
    }

    /// The C library's description of the error number.
    pub fn description(self) -> String {
        std::io::Error::from_raw_os_error(self.0).to_string()
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// The size passed as the third argument: `sizeof(struct tux_req)`.
pub const REQ_SIZE: usize = core::mem::size_of::<TuxReq>();

/// A request block with `version` set to [`TUX_VERSION`], everything else 0.
pub fn new_req() -> TuxReq {
    TuxReq {
        version: TUX_VERSION,
        ..TuxReq::default()
    }
}

/// Calls `tux(action, req, size)`.
///
/// With `None` the kernel gets a NULL block and size 0 (allowed only for
/// `STARTUP`, `SHUTDOWN` and `QUERY_VERSION`). With a block, `version` is
/// set to [`TUX_VERSION`] if the caller left it 0. Returns the non-negative
/// result or the error number.
///
/// Pointers stored in the block (`buf`, `name`, `value`) must point to
/// memory that is valid for the access the action makes, for the duration
/// of the call; the safe wrappers in this crate guarantee that by setting
/// them from borrowed slices right before the call.
pub fn tux(action: Action, req: Option<&mut TuxReq>) -> Result<i64, Errno> {
    let (ptr, size) = match req {
        Some(r) => {
            if r.version == 0 {
                r.version = TUX_VERSION;
            }
            (r as *mut TuxReq, REQ_SIZE)
        }
        None => (core::ptr::null_mut(), 0),
    };
    // SAFETY: `ptr` is NULL or points to a live, exclusively borrowed
    // `TuxReq` of `size` bytes; the kernel validates every user pointer it
    // finds inside it (a bad one is -EFAULT, not undefined behaviour here).
    let ret = unsafe { libc::syscall(SYS_TUX, action as libc::c_uint, ptr, size) };
    if ret < 0 {
        Err(Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        ))
    } else {
        Ok(ret)
    }
}
