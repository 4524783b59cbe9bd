// SPDX-License-Identifier: GPL-2.0

//! Typed errors of libtux.

use crate::sys::Errno;
use core::fmt;
use tux_abi::Action;

/// What went wrong.
#[derive(Debug)]
pub enum Error {
    /// `tux(2)` failed: which action, with which error number.
    Sys {
        /// The action that failed.
        action: Action,
        /// The error number.
        errno: Errno,
    },
    /// The kernel's ABI version cannot run code built against ours.
    IncompatibleKernel {
        /// The kernel's packed version (`QUERY_VERSION`).
        kernel: u32,
        /// The version libtux was built against.
        module: u32,
    },
    /// The request head returned by `READ_HEADERS` could not be parsed.
    BadHead(tux_http::parser::Error),
    /// A response header name or value that would corrupt the response
    /// (not a token, CR/LF/NUL in the value, or a framing header that
    /// libtux writes itself).
    BadHeader(String),
    /// A status code outside 100..=999.
    BadStatus(u16),
    /// The request was already finished, postponed or redirected.
    AlreadyFinished,
    /// The response head was already sent (a second `respond`, or an error
    /// after streaming started).
    HeadAlreadySent,
    /// A name (prefix, extension, MIME type, object name) is empty, too long
    /// or malformed; the string says which.
    BadName(String),
    /// The kernel sent fewer bytes than asked and made no progress.
    ShortSend,
    /// A module asked for more of the body than allowed.
    BodyTooLarge(u64),
    /// An I/O error outside `tux(2)` (CGI processes, files, threads).
    Io(std::io::Error),
    /// A module handler panicked (caught by the event loop).
    Panic,
}

/// `Result` with libtux's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// The error number of a failed system call, if that is what this is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { errno, .. } => Some(*errno),
            Error::Io(e) => e.raw_os_error().map(Errno),
            _ => None,
        }
    }

    /// Whether this is `action` failing with `errno`.
    pub fn is(&self, action: Action, errno: i32) -> bool {
        matches!(self, Error::Sys { action: a, errno: e } if *a == action && e.0 == errno)
    }

    /// The status a module should answer with when this error ends a
    /// request before anything was sent: `GET_OBJECT`'s `ENOENT` is 404,
    /// `EACCES` 403, `ENAMETOOLONG` 414; a bad head 400; else 500.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Sys {
                action: Action::GetObject,
                errno,
            } => match errno.0 {
                libc::ENOENT | libc::ENOTDIR => 404,
                libc::EACCES | libc::EPERM | libc::EISDIR => 403,
                libc::ENAMETOOLONG => 414,
                _ => 500,
            },
            Error::BadHead(e) => e.status().code(),
            Error::BodyTooLarge(_) => 413,
            _ => 500,
        }
    }
}

/// The upper-case action name as in the C header (`GET_OBJECT`).
pub fn action_name(a: Action) -> &'static str {
    a.name()
}

/// A hint for the error numbers whose meaning depends on `tux(2)`.
fn hint(action: Action, errno: i32) -> Option<&'static str> {
    Some(match (action, errno) {
        (_, libc::ENOSYS) => "this kernel has no tux(2) (CONFIG_TUX)",
        (_, libc::EPERM) => {
            "needs CAP_NET_ADMIN (outside the initial network namespace: over the initial \
             user namespace, or over the namespace's own with net.tux.userns_control=1)"
        }
        (_, libc::EOPNOTSUPP) => "this kernel's TUX serves the initial network namespace only",
        (_, libc::EPROTO) => "request block version not compatible with the kernel's",
        (Action::Startup, libc::EBUSY) => "the server is already running",
        (Action::Shutdown, libc::ESRCH) => "the server is not running",
        (Action::Startup, libc::ENOENT) => "the document root does not exist",
        (Action::Startup, libc::EADDRINUSE) => "the listen address is in use",
        (Action::StartThread, libc::EBUSY) => "that thread number is taken",
        (Action::StartThread, libc::ERANGE) => "thread number out of range",
        (Action::StopThread, libc::ESRCH) => "no such module thread",
        (Action::EventLoop, libc::EINVAL) => "the caller is not a module thread",
        (Action::RegisterModule, libc::EEXIST) => "a module has that prefix already",
        (Action::RegisterModule, libc::ENOSPC) => "too many modules",
        (Action::RegisterMimetype, libc::ENOSPC) => "too many MIME types",
        (Action::UnregisterModule, libc::ENOENT) => "no module with that prefix",
        (Action::ContinueReq, libc::EINVAL) => "the request is not postponed",
        (Action::RedirectReq, libc::ECONNREFUSED) => "no fallback server listens on clientport",
        (Action::GetObject, libc::ENOENT) => "no such object beneath the document root",
        (Action::GetObject, libc::EACCES) => "not a world-readable regular file",
        (Action::ReadHeaders, libc::ENOSPC) => "buffer smaller than headers_len",
        (_, libc::ENOENT) => "no such request (finished, timed out, or not ours)",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys { action, errno } => {
                write!(f, "tux({}): {}", action_name(*action), errno)?;
                match hint(*action, errno.0) {
                    Some(h) => write!(f, ": {h}"),
                    None => write!(f, ": {}", errno.description()),
                }
            }
            Error::IncompatibleKernel { kernel, module } => write!(
                f,
                "kernel tux ABI {} is incompatible with libtux's {} (same major, minor not newer needed)",
                crate::admin::format_version(*kernel),
                crate::admin::format_version(*module)
            ),
            Error::BadHead(e) => write!(f, "unparsable request head: {e:?}"),
            Error::BadHeader(h) => write!(f, "bad response header: {h}"),
            Error::BadStatus(s) => write!(f, "bad status code {s}"),
            Error::AlreadyFinished => write!(f, "request already finished, postponed or redirected"),
            Error::HeadAlreadySent => write!(f, "response head already sent"),
            Error::BadName(s) => write!(f, "bad name: {s}"),
            Error::ShortSend => write!(f, "the kernel sent nothing (peer gone?)"),
            Error::BodyTooLarge(n) => write!(f, "request body of {n} bytes is larger than allowed"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Panic => write!(f, "module handler panicked"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Calls `tux(2)` and types the error with its action.
pub(crate) fn call(action: Action, req: Option<&mut tux_abi::TuxReq>) -> Result<i64> {
    crate::sys::tux(action, req).map_err(|errno| Error::Sys { action, errno })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enosys_names_config_tux() {
        let e = Error::Sys {
            action: Action::QueryVersion,
            errno: Errno(libc::ENOSYS),
        };
        assert_eq!(
            e.to_string(),
            "tux(QUERY_VERSION): ENOSYS: this kernel has no tux(2) (CONFIG_TUX)"
        );
    }

    #[test]
    fn eopnotsupp_names_the_namespace() {
        let e = Error::Sys {
            action: Action::Startup,
            errno: Errno(libc::EOPNOTSUPP),
        };
        assert_eq!(
            e.to_string(),
            "tux(STARTUP): EOPNOTSUPP: this kernel's TUX serves the initial network namespace only"
        );
    }

    #[test]
    fn errors_map_to_statuses() {
        let nf = Error::Sys {
            action: Action::GetObject,
            errno: Errno(libc::ENOENT),
        };
        assert_eq!(nf.http_status(), 404);
        assert!(nf.is(Action::GetObject, libc::ENOENT));
        let acc = Error::Sys {
            action: Action::GetObject,
            errno: Errno(libc::EACCES),
        };
        assert_eq!(acc.http_status(), 403);
        let other = Error::Sys {
            action: Action::SendBuffer,
            errno: Errno(libc::ENOENT),
        };
        assert_eq!(other.http_status(), 500);
        assert!(other.to_string().contains("SEND_BUFFER"));
    }

    #[test]
    fn every_action_has_a_name() {
        for a in Action::ALL {
            assert!(!action_name(a).is_empty());
        }
    }
}
