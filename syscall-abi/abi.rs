// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note

//! The `tux(2)` system call ABI: action numbers, the request block, return
//! codes and version packing.
//!
//! ```text
//! long tux(unsigned int action, struct tux_req *req, size_t size);
//! ```
//!
//! This file is the one definition of the ABI. The kernel builds it into
//! `net/tux/` and libtux builds it as the `tux-abi` crate; the C header
//! `include/uapi/linux/tux.h` is kept equal to it by `tests/agree.rs`.
//!
//! Rules that keep the ABI stable:
//!
//! - Every field has a fixed width; user pointers are `u64`; the layout is the
//!   same on 32- and 64-bit and has no implicit padding (asserted below).
//! - The caller passes `size_of::<TuxReq>()` as it knows it. The kernel
//!   accepts any size from [`TUX_REQ_SIZE_VER0`] up, with
//!   `copy_struct_from_user` semantics: bytes the kernel does not know must be
//!   zero (else `-E2BIG`), fields the caller does not know read as zero. The
//!   kernel writes back at most `size` bytes.
//! - Variable-length data (names, headers, body, buffers) travels as
//!   pointer + length, never in truncating fixed arrays.

/// Major version. A module built for another major version is refused.
pub const TUX_VERSION_MAJOR: u32 = 4;
/// Minor version. A module built for a newer minor version is refused.
pub const TUX_VERSION_MINOR: u32 = 0;
/// Patch level; never affects compatibility.
pub const TUX_VERSION_PATCH: u32 = 0;

/// Packs a version as classic TUX did: `major << 24 | minor << 16 | patch`.
pub const fn pack_version(major: u32, minor: u32, patch: u32) -> u32 {
    ((major & 0xff) << 24) | ((minor & 0xff) << 16) | (patch & 0xffff)
}

/// The version of this ABI, as `QUERY_VERSION` returns it.
pub const TUX_VERSION: u32 = pack_version(TUX_VERSION_MAJOR, TUX_VERSION_MINOR, TUX_VERSION_PATCH);

/// The major number of a packed version.
pub const fn version_major(v: u32) -> u32 {
    v >> 24
}

/// The minor number of a packed version.
pub const fn version_minor(v: u32) -> u32 {
    (v >> 16) & 0xff
}

/// The patch level of a packed version.
pub const fn version_patch(v: u32) -> u32 {
    v & 0xffff
}

/// Whether a module built against `module` may run on a kernel with `kernel`:
/// same major version, and a minor version no newer than the kernel's.
pub const fn version_compatible(kernel: u32, module: u32) -> bool {
    version_major(kernel) == version_major(module) && version_minor(module) <= version_minor(kernel)
}

/// The actions of `tux(2)`, with their classic numbers.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start the server with the configuration in `/proc/sys/net/tux`.
    Startup = 1,
    /// Stop the server, every module thread and every module.
    Shutdown = 2,
    /// Register the calling thread as module thread `thread_nr`.
    StartThread = 3,
    /// Stop module thread `thread_nr`; its `EVENTLOOP` returns `EXIT`.
    StopThread = 4,
    /// Wait for a request for one of the caller's modules.
    EventLoop = 5,
    /// Look up `name` beneath the document root for request `id`.
    GetObject = 6,
    /// Send the looked-up object to the client, zero-copy.
    SendObject = 7,
    /// Copy the looked-up object (from `offset`) into `buf`.
    ReadObject = 8,
    /// Finish request `id`; keep the connection if the client asked for it.
    FinishReq = 9,
    /// Finish request `id` and close the connection.
    FinishCloseReq = 10,
    /// Register a module answering under the URL prefix `name`.
    RegisterModule = 11,
    /// Unregister the module with prefix `name`.
    UnregisterModule = 12,
    /// Copy the server's current `Date` value into `buf`.
    CurrentDate = 13,
    /// Map the file extension `name` to the MIME type `value`.
    RegisterMimetype = 14,
    /// Copy the raw request head into `buf`.
    ReadHeaders = 15,
    /// Park request `id` until `CONTINUE_REQ`.
    PostponeReq = 16,
    /// Queue parked request `id` to its module's event loop again.
    ContinueReq = 17,
    /// Hand request `id`'s connection to the fallback server on `clientport`.
    RedirectReq = 18,
    /// Copy request body bytes into `buf`.
    ReadPostData = 19,
    /// Send `buf` to the client.
    SendBuffer = 20,
    /// Tie the socket `proxy_fd` to request `id`.
    WatchProxySocket = 21,
    /// Wait until the watched socket is readable.
    WaitProxySocket = 22,
    /// Return the packed ABI version.
    QueryVersion = 23,
}

impl Action {
    /// Every action, in number order.
    pub const ALL: [Action; 23] = [
        Action::Startup,
        Action::Shutdown,
        Action::StartThread,
        Action::StopThread,
        Action::EventLoop,
        Action::GetObject,
        Action::SendObject,
        Action::ReadObject,
        Action::FinishReq,
        Action::FinishCloseReq,
        Action::RegisterModule,
        Action::UnregisterModule,
        Action::CurrentDate,
        Action::RegisterMimetype,
        Action::ReadHeaders,
        Action::PostponeReq,
        Action::ContinueReq,
        Action::RedirectReq,
        Action::ReadPostData,
        Action::SendBuffer,
        Action::WatchProxySocket,
        Action::WaitProxySocket,
        Action::QueryVersion,
    ];

    /// The action with number `n`, if there is one.
    pub const fn from_u32(n: u32) -> Option<Self> {
        if n >= 1 && n <= 23 {
            Some(Self::ALL[(n - 1) as usize])
        } else {
            None
        }
    }

    /// The name of the action as in the C header, without `TUX_ACTION_`
    /// (`GET_OBJECT`).
    pub const fn name(self) -> &'static str {
        match self {
            Action::Startup => "STARTUP",
            Action::Shutdown => "SHUTDOWN",
            Action::StartThread => "STARTTHREAD",
            Action::StopThread => "STOPTHREAD",
            Action::EventLoop => "EVENTLOOP",
            Action::GetObject => "GET_OBJECT",
            Action::SendObject => "SEND_OBJECT",
            Action::ReadObject => "READ_OBJECT",
            Action::FinishReq => "FINISH_REQ",
            Action::FinishCloseReq => "FINISH_CLOSE_REQ",
            Action::RegisterModule => "REGISTER_MODULE",
            Action::UnregisterModule => "UNREGISTER_MODULE",
            Action::CurrentDate => "CURRENT_DATE",
            Action::RegisterMimetype => "REGISTER_MIMETYPE",
            Action::ReadHeaders => "READ_HEADERS",
            Action::PostponeReq => "POSTPONE_REQ",
            Action::ContinueReq => "CONTINUE_REQ",
            Action::RedirectReq => "REDIRECT_REQ",
            Action::ReadPostData => "READ_POST_DATA",
            Action::SendBuffer => "SEND_BUFFER",
            Action::WatchProxySocket => "WATCH_PROXY_SOCKET",
            Action::WaitProxySocket => "WAIT_PROXY_SOCKET",
            Action::QueryVersion => "QUERY_VERSION",
        }
    }

    /// Whether the action needs `CAP_NET_ADMIN`: everything that changes the
    /// server or registers code to answer requests. Per-request actions need
    /// instead that the request was handed to the caller's process.
    pub const fn is_admin(self) -> bool {
        matches!(
            self,
            Action::Startup
                | Action::Shutdown
                | Action::StartThread
                | Action::StopThread
                | Action::RegisterModule
                | Action::UnregisterModule
                | Action::RegisterMimetype
        )
    }

    /// Whether the action works on the request named by `id`.
    pub const fn is_per_request(self) -> bool {
        matches!(
            self,
            Action::GetObject
                | Action::SendObject
                | Action::ReadObject
                | Action::FinishReq
                | Action::FinishCloseReq
                | Action::ReadHeaders
                | Action::PostponeReq
                | Action::ContinueReq
                | Action::RedirectReq
                | Action::ReadPostData
                | Action::SendBuffer
                | Action::WatchProxySocket
                | Action::WaitProxySocket
        )
    }

    /// Whether the action ignores the request block (it may be NULL).
    pub const fn needs_no_req(self) -> bool {
        matches!(
            self,
            Action::Startup | Action::Shutdown | Action::QueryVersion
        )
    }
}

/// `EVENTLOOP` returned with a request in the request block.
pub const TUX_RETURN_USERSPACE_REQUEST: i64 = 0;
/// `EVENTLOOP` returned because the thread or the server was stopped.
pub const TUX_RETURN_EXIT: i64 = 1;
/// `EVENTLOOP` returned because a signal is pending.
pub const TUX_RETURN_SIGNAL: i64 = 2;

/// `http_method` values.
pub mod method {
    /// Anything else.
    pub const OTHER: u32 = 0;
    /// GET.
    pub const GET: u32 = 1;
    /// HEAD.
    pub const HEAD: u32 = 2;
    /// POST.
    pub const POST: u32 = 3;
    /// PUT.
    pub const PUT: u32 = 4;
    /// DELETE.
    pub const DELETE: u32 = 5;
    /// OPTIONS.
    pub const OPTIONS: u32 = 6;
    /// PATCH.
    pub const PATCH: u32 = 7;
}

/// `http_version` values: major * 10 + minor.
pub mod http_version {
    /// HTTP/1.0.
    pub const HTTP_1_0: u32 = 10;
    /// HTTP/1.1.
    pub const HTTP_1_1: u32 = 11;
}

/// Largest module thread number plus one.
pub const TUX_MAX_THREADS: u32 = 64;
/// Most modules registered at once.
pub const TUX_MAX_MODULES: u32 = 16;
/// Longest module prefix, file extension or MIME type, in bytes.
pub const TUX_MAX_NAME: u64 = 255;
/// Length of the `Date` value `CURRENT_DATE` copies (IMF-fixdate).
pub const TUX_DATE_LEN: u64 = 29;

/// The request block: the argument of every action that takes one.
///
/// `in` fields are read by the kernel, `out` fields written by it;
/// module-owned fields are kept with the request and given back unchanged by
/// every later `EVENTLOOP` that returns it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TuxReq {
    /// in: the packed version the caller was built against (`TUX_VERSION`).
    pub version: u32,
    /// out: `http_version::*`.
    pub http_version: u32,
    /// out: `method::*`.
    pub http_method: u32,
    /// in: the status the module answered with (access log).
    pub http_status: u32,
    /// module-owned: the module's state for this request.
    pub event: u32,
    /// out: the errno of the last failed action on this request, or 0.
    pub error: u32,
    /// in: `STARTTHREAD`/`STOPTHREAD` thread number, below `TUX_MAX_THREADS`.
    pub thread_nr: u32,
    /// out: index of the module the request was routed to.
    pub module_index: u32,
    /// out: 1 if the connection may be kept after `FINISH_REQ`.
    pub keep_alive: u32,
    /// out: the client's TCP port.
    pub client_port: u32,
    /// out: the client's address family: `AF_INET`, or `AF_INET6` for an IPv6
    /// client (an IPv4 client of the dual-stack listener is `AF_INET`).
    pub client_family: u32,
    /// in: the socket for `WATCH_PROXY_SOCKET`.
    pub proxy_fd: i32,
    /// out: the client's address, network order (IPv4 in the first 4 bytes,
    /// IPv6 in all 16).
    pub client_addr: [u8; 16],
    /// out of `EVENTLOOP`, in for per-request actions: the request handle.
    pub id: u64,
    /// module-owned: a pointer-sized value the module keeps with the request.
    pub private: u64,
    /// out: body bytes sent to the client so far.
    pub bytes_sent: u64,
    /// out of `GET_OBJECT`: the object's size.
    pub object_len: u64,
    /// out of `GET_OBJECT`: the object's modification time (Unix seconds).
    pub object_mtime: u64,
    /// out: length of the raw request head (`READ_HEADERS` needs this much).
    pub headers_len: u64,
    /// out: length of the request body (`Content-Length`), 0 if none.
    pub body_len: u64,
    /// in: user buffer for `READ_*`, `SEND_BUFFER`, `CURRENT_DATE`.
    pub buf: u64,
    /// in: length of `buf`.
    pub buf_len: u64,
    /// in: object name, module prefix or file extension.
    pub name: u64,
    /// in: length of `name`.
    pub name_len: u64,
    /// in: MIME type for `REGISTER_MIMETYPE`.
    pub value: u64,
    /// in: length of `value`.
    pub value_len: u64,
    /// in: offset into the object (`READ_OBJECT`, `SEND_OBJECT`).
    pub offset: u64,
}

/// Size of the first published version of [`TuxReq`].
pub const TUX_REQ_SIZE_VER0: usize = 176;
/// Largest request block size the kernel accepts (larger is `-E2BIG`
/// unless the extra bytes are zero, and never more than a page).
pub const TUX_REQ_SIZE_MAX: usize = 4096;

const _: () = {
    assert!(core::mem::size_of::<TuxReq>() == TUX_REQ_SIZE_VER0);
    assert!(core::mem::align_of::<TuxReq>() == 8);
    // No implicit padding: the fields add up to the size.
    assert!(12 * 4 + 16 + 14 * 8 == TUX_REQ_SIZE_VER0);
    assert!(core::mem::offset_of!(TuxReq, id) == 64);
};
