// SPDX-License-Identifier: GPL-2.0

//! Administration: version, start and stop, modules, MIME types.
//!
//! Everything here but [`query_version`] and [`current_date`] needs
//! `CAP_NET_ADMIN` (the kernel answers `EPERM` otherwise).

use crate::error::{call, Error, Result};
use crate::sys::new_req;
use tux_abi::{
    pack_version, version_compatible, version_major, version_minor, version_patch, Action,
    TUX_DATE_LEN, TUX_MAX_NAME, TUX_VERSION,
};

/// Formats a packed version as `major.minor.patch`.
pub fn format_version(v: u32) -> String {
    format!(
        "{}.{}.{}",
        version_major(v),
        version_minor(v),
        version_patch(v)
    )
}

/// The kernel's packed ABI version (`QUERY_VERSION`).
///
/// ```no_run
/// let v = libtux::query_version()?;
/// println!("kernel tux ABI {}", libtux::format_version(v));
/// # Ok::<(), libtux::Error>(())
/// ```
pub fn query_version() -> Result<u32> {
    let v = call(Action::QueryVersion, None)?;
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// Checks that code built against [`TUX_VERSION`] may run on a kernel
/// reporting `kernel`: same major version, minor not newer.
pub fn check_version(kernel: u32) -> Result<()> {
    if version_compatible(kernel, TUX_VERSION) {
        Ok(())
    } else {
        Err(Error::IncompatibleKernel {
            kernel,
            module: TUX_VERSION,
        })
    }
}

/// Queries the kernel's version and refuses an incompatible kernel.
/// Returns the kernel's version.
pub fn check_kernel() -> Result<u32> {
    let v = query_version()?;
    check_version(v)?;
    Ok(v)
}

/// The version libtux was built against.
pub const fn abi_version() -> u32 {
    pack_version(
        tux_abi::TUX_VERSION_MAJOR,
        tux_abi::TUX_VERSION_MINOR,
        tux_abi::TUX_VERSION_PATCH,
    )
}

/// Starts the server with the configuration in `/proc/sys/net/tux`
/// (`STARTUP`). A running server is `EBUSY`.
pub fn startup() -> Result<()> {
    call(Action::Startup, None).map(drop)
}

/// Stops the server (`SHUTDOWN`): every module thread's event loop returns,
/// held requests get 503, modules are unregistered. Not running is `ESRCH`.
pub fn shutdown() -> Result<()> {
    call(Action::Shutdown, None).map(drop)
}

/// The index the kernel gave a module; `Request::module_index` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u32);

/// Checks a module route as the kernel will: a canonical URL prefix
/// (`/name`, `/a/b`) or a file extension (`*.ext`).
pub fn validate_prefix(prefix: &str) -> Result<()> {
    // The kernel's own rule (the HTTP core's), so that the two never disagree.
    if prefix.len() as u64 <= TUX_MAX_NAME
        && tux_http::plan::module_prefix(prefix.as_bytes()).is_some()
    {
        return Ok(());
    }
    Err(Error::BadName(format!(
        "module prefix {prefix:?}: must be a canonical URL path (\"/name\" or \"/a/b\": \
         visible ASCII, no empty, \".\" or \"..\" segments, no trailing '/', no '%', '\\', \
         '?' or '#'), a file extension (\"*.ext\") or a module name (\"hello.tux\"), \
         at most 255 bytes"
    )))
}

fn with_name(action: Action, name: &[u8], value: Option<&[u8]>) -> Result<i64> {
    let mut req = new_req();
    req.name = name.as_ptr() as u64;
    req.name_len = name.len() as u64;
    if let Some(v) = value {
        req.value = v.as_ptr() as u64;
        req.value_len = v.len() as u64;
    }
    call(action, Some(&mut req))
}

/// Registers a module answering requests whose path is `prefix` or lies
/// under it (`REGISTER_MODULE`). Requests arrive at the event loops of this
/// process ([`crate::Server`] does this for you).
pub fn register_module(prefix: &str) -> Result<ModuleId> {
    validate_prefix(prefix)?;
    let n = with_name(Action::RegisterModule, prefix.as_bytes(), None)?;
    Ok(ModuleId(u32::try_from(n).unwrap_or(u32::MAX)))
}

/// Unregisters the module with `prefix` (`UNREGISTER_MODULE`).
pub fn unregister_module(prefix: &str) -> Result<()> {
    validate_prefix(prefix)?;
    with_name(Action::UnregisterModule, prefix.as_bytes(), None).map(drop)
}

/// Checks a file extension (no dot) and a MIME type for
/// [`register_mimetype`].
pub fn validate_mimetype(ext: &str, mime: &str) -> Result<()> {
    // The kernel's own rules (the HTTP core's).
    if !tux_http::mime::valid_extension(ext.as_bytes()) {
        return Err(Error::BadName(format!(
            "extension {ext:?}: must be 1..=16 letters, digits or -_+ without a dot"
        )));
    }
    if !tux_http::mime::valid_type(mime.as_bytes()) {
        return Err(Error::BadName(format!(
            "MIME type {mime:?}: must be type/subtype[; params], printable ASCII, at most 127 bytes"
        )));
    }
    Ok(())
}

/// Serves static files ending in `.ext` with Content-Type `mime`
/// (`REGISTER_MIMETYPE`).
pub fn register_mimetype(ext: &str, mime: &str) -> Result<()> {
    validate_mimetype(ext, mime)?;
    with_name(
        Action::RegisterMimetype,
        ext.as_bytes(),
        Some(mime.as_bytes()),
    )
    .map(drop)
}

/// The server's current `Date` value (`CURRENT_DATE`), an IMF-fixdate.
pub fn current_date() -> Result<String> {
    let mut buf = [0u8; TUX_DATE_LEN as usize];
    let mut req = new_req();
    req.buf = buf.as_mut_ptr() as u64;
    req.buf_len = buf.len() as u64;
    let n = call(Action::CurrentDate, Some(&mut req))?;
    let n = usize::try_from(n).unwrap_or(0).min(buf.len());
    Ok(String::from_utf8_lossy(buf.get(..n).unwrap_or(&[])).into_owned())
}

/// Makes the calling thread module thread `nr` of this process
/// (`STARTTHREAD`). [`crate::Server::run`] does this for you.
pub fn start_thread(nr: u32) -> Result<()> {
    let mut req = new_req();
    req.thread_nr = nr;
    call(Action::StartThread, Some(&mut req)).map(drop)
}

/// Stops module thread `nr` of this process (`STOPTHREAD`): its event loop
/// returns `EXIT`. May be called from any thread.
pub fn stop_thread(nr: u32) -> Result<()> {
    let mut req = new_req();
    req.thread_nr = nr;
    call(Action::StopThread, Some(&mut req)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_check_follows_the_abi_rule() {
        assert!(check_version(TUX_VERSION).is_ok());
        // A newer kernel minor or patch is fine.
        assert!(check_version(pack_version(4, 3, 0)).is_ok());
        assert!(check_version(pack_version(4, 0, 9)).is_ok());
        // Another major, either way, is refused.
        let e = check_version(pack_version(3, 0, 0)).unwrap_err();
        assert!(matches!(e, Error::IncompatibleKernel { .. }));
        assert!(e.to_string().contains("3.0.0"), "{e}");
        assert!(check_version(pack_version(5, 0, 0)).is_err());
        assert_eq!(abi_version(), TUX_VERSION);
        assert_eq!(format_version(TUX_VERSION), "4.0.0");
    }

    #[test]
    fn older_kernel_minor_is_refused() {
        // Only meaningful once the ABI has a minor > 0; check the rule directly.
        assert!(!version_compatible(
            pack_version(4, 0, 0),
            pack_version(4, 1, 0)
        ));
    }

    #[test]
    fn prefixes() {
        for ok in ["/hello", "/api/v1", "/cgi-bin", "*.php", "hello.tux"] {
            assert!(validate_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/", ".hello", "/a/", "/a b", "/a?x", "/a//b", "/a/../b", "/./a", "/\u{e9}",
            "/a%2fb", "*.", "*.a/b",
        ] {
            assert!(validate_prefix(bad).is_err(), "{bad}");
        }
        assert!(validate_prefix(&format!("/{}", "a".repeat(255))).is_err());
    }

    #[test]
    fn mimetypes() {
        assert!(validate_mimetype("wasm", "application/wasm").is_ok());
        assert!(validate_mimetype("txt", "text/plain; charset=utf-8").is_ok());
        assert!(validate_mimetype(".wasm", "application/wasm").is_err());
        assert!(validate_mimetype("", "text/plain").is_err());
        assert!(validate_mimetype("x", "textplain").is_err());
        assert!(validate_mimetype("x", "text/plain\r\nX: y").is_err());
    }
}
