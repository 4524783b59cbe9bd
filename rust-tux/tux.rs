// SPDX-License-Identifier: GPL-2.0

//! TUX: an in-kernel HTTP/1.1 server.
//!
//! TUX serves static files from the page cache straight to the network. This
//! crate is the kernel side of the subsystem; it is built into the image when
//! `CONFIG_TUX=y` and initialised at boot.
//!
//! Layout:
//! - [`http`]: the sans-IO HTTP/1.1 core (parser, paths, planner), the same
//!   source that is unit-, property- and fuzz-tested on the host.
//! - `server`: listener, connection registry, timeouts, start and stop.
//! - `engine`: one server thread per CPU with its lock-free ready list.
//! - `conn`: the per-connection state machine (read, parse, send); `conn::user`, the
//!   connection's side of a request owned by a userspace module.
//! - `serve`: deciding and finding the answer (module, in-kernel handler, static
//!   object through the cache) and planning the response.
//! - `netns`: one TUX per network namespace (server, counters, log, modules).
//! - `config`: the typed configuration snapshot taken at start.
//! - `cache`: hot objects (looked-up paths, open files), kept coherent.
//! - `stats`, `clock`: counters for `/proc/net/tux/stats`; time.
//! - `log`: the access log ring behind `/proc/net/tux/log`.
//! - [`version`]: the subsystem version reported at boot and by `tux(2)`.
//! - `tests`: KUnit suites (`CONFIG_TUX_KUNIT_TEST`).
//!
//! The C side (`net/tux/control.c`) owns each network namespace's sysctls
//! under `/proc/sys/net/tux/`, the `tux.*` boot parameters and `/proc/net/tux/`;
//! it calls [`tux_server_start`] and [`tux_server_stop`] with the namespace.

use kernel::{
    bindings,
    net::namespace::Namespace,
    prelude::*,
    sync::atomic::{Acquire, Atomic, Release},
};
use netns::Instance;

pub mod abi;
mod cache;
mod clock;
mod config;
mod conn;
mod conns;
mod engine;
mod handoff;
pub mod http;
pub mod khandler;
mod log;
mod netns;
mod serve;
mod server;
mod stats;
pub mod syscall;
mod user;

/// Set once `Tux::init` has completed: until then (and for good if it failed), the
/// server cannot be started and `tux(2)` fails with `ENODEV`.
static READY: Atomic<bool> = Atomic::new(false);

/// Whether `Tux::init` completed.
pub(crate) fn ready() -> bool {
    READY.load(Acquire)
}

/// Starts the server of `net` with its current configuration. A running one is
/// stopped first with `replace`, and makes it fail with `EBUSY` without. The document
/// root is looked up in the caller's mount namespace.
fn start(net: &Namespace, replace: bool) -> Result {
    if !ready() {
        return Err(ENODEV);
    }
    let inst = Instance::of(net)?;
    let mut slot = inst.server.lock();
    if slot.is_some() && !replace {
        return Err(EBUSY);
    }
    if let Some(old) = slot.take() {
        drop(old);
    }
    let cfg = config::Config::snapshot(net);
    let s = server::Server::start(inst.clone(), net, cfg)?;
    if let Some(https) = s.config().https {
        pr_info!(
            "HTTPS on {}: TLS handshakes by the agent of the namespace (tux tlsd)\n",
            config::Shown(https)
        );
    }
    pr_info!(
        "serving {} on {}{}\n",
        s.config().docroot_str(),
        config::Shown(s.config().listen),
        if net.is_init() {
            ""
        } else {
            " (in a network namespace)"
        },
    );
    *slot = Some(s);
    Ok(())
}

/// Starts the server of `net` (stopping a running one first).
///
/// Called by `control.c` for `/proc/sys/net/tux/running`, and at boot.
///
/// # Safety
///
/// `net` must be a live network namespace.
#[no_mangle]
pub unsafe extern "C" fn tux_server_start(net: *mut bindings::net) -> c_int {
    // SAFETY: by the safety requirements.
    let net = unsafe { Namespace::from_raw(net) };
    match start(net, true) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `STARTUP`: starts the server of `net` with its current configuration, unless it
/// runs.
pub(crate) fn server_startup(net: &Namespace) -> Result {
    start(net, false)
}

/// `SHUTDOWN`: stops the server of `net`, every module thread and every module.
pub(crate) fn server_shutdown(net: &Namespace) -> Result {
    let inst = Instance::of(net)?;
    let was_running = inst.server.lock().take().map(drop).is_some();
    inst.user.shutdown();
    if was_running {
        Ok(())
    } else {
        Err(ESRCH)
    }
}

/// Stops the server of `net` if it is running.
///
/// # Safety
///
/// `net` must be a live network namespace.
#[no_mangle]
pub unsafe extern "C" fn tux_server_stop(net: *mut bindings::net) {
    // SAFETY: by the safety requirements.
    let net = unsafe { Namespace::from_raw(net) };
    if let Some(inst) = Instance::find(net) {
        if let Some(s) = inst.server.lock().take() {
            drop(s);
        }
    }
}

/// Whether the server of `net` is running (for `control.c`).
///
/// # Safety
///
/// `net` must be a live network namespace.
#[no_mangle]
pub unsafe extern "C" fn tux_server_running(net: *mut bindings::net) -> bool {
    // SAFETY: by the safety requirements.
    let net = unsafe { Namespace::from_raw(net) };
    Instance::find(net).is_some_and(|i| i.server.lock().is_some())
}

module! {
    type: Tux,
    name: "tux",
    authors: ["The tux developers"],
    description: "TUX in-kernel HTTP server",
    license: "GPL",
}

pub(crate) mod version {
    //! The subsystem version: the version of the `tux(2)` ABI, packed as
    //! `major << 24 | minor << 16 | patch` as classic TUX did.

    /// Major version: 4 is the first Rust TUX (classic TUX ended at 3).
    pub(crate) const MAJOR: u32 = crate::abi::TUX_VERSION_MAJOR;
    /// Minor version.
    pub(crate) const MINOR: u32 = crate::abi::TUX_VERSION_MINOR;
    /// Patch level.
    pub(crate) const PATCH: u32 = crate::abi::TUX_VERSION_PATCH;

    /// The version packed as `tux(2)` reports it.
    pub(crate) const fn packed() -> u32 {
        crate::abi::TUX_VERSION
    }
}

/// The subsystem instance, alive from boot until shutdown.
struct Tux;

impl kernel::Module for Tux {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "TUX {}.{}.{} in-kernel HTTP server (Rust), version code {:#010x}\n",
            version::MAJOR,
            version::MINOR,
            version::PATCH,
            version::packed()
        );
        // Every global lock first, before anything that can fail: the system call, the
        // exported handler registration and the sysctls can be reached even if the
        // initialisation fails below, and must find initialised locks.
        // SAFETY: called once, before anything else can use these locks.
        unsafe {
            netns::init_lock();
            khandler::init_lock();
        }
        // SAFETY: called once, at initialisation.
        kernel::error::to_result(unsafe { bindings::tux_control_init() })
            .inspect_err(|e| pr_err!("cannot register sysctls/procfs: {}\n", e.to_errno()))?;
        READY.store(true, Release);
        // SAFETY: no preconditions; boot parameters are parsed before initcalls.
        if unsafe { bindings::tux_autostart() } {
            if let Err(e) = start(Namespace::init_ns(), true) {
                pr_err!("not started at boot (error {})\n", e.to_errno());
            }
        } else {
            pr_info!(
                "not started: write 1 to /proc/sys/net/tux/running, or boot with tux.docroot=\n"
            );
        }
        Ok(Tux)
    }
}

#[cfg(CONFIG_TUX_KUNIT_TEST)]
#[kunit_tests(tux_core)]
mod tests {
    use super::{version, READY};
    use kernel::{
        prelude::*,
        sync::atomic::{Acquire, Release},
    };

    /// Until `Tux::init` completes (and for good if it fails), `tux(2)` and a server
    /// start must refuse with `ENODEV` before touching anything that init sets up.
    #[test]
    fn nothing_runs_before_init_completed() {
        // KUnit runs after the initcalls, before userspace: nothing else calls these now.
        assert!(READY.load(Acquire));
        READY.store(false, Release);
        let call = crate::syscall::tux_syscall(0, core::ptr::null_mut(), 0);
        let start = super::start(kernel::net::namespace::Namespace::init_ns(), true);
        READY.store(true, Release);
        assert_eq!(call, ENODEV.to_errno() as kernel::ffi::c_long);
        assert!(matches!(start, Err(e) if e == ENODEV));
    }

    #[test]
    fn version_packing_matches_classic_layout() {
        let v = version::packed();
        assert_eq!(v >> 24, version::MAJOR);
        assert_eq!((v >> 16) & 0xff, version::MINOR);
        assert_eq!(v & 0xffff, version::PATCH);
    }
}

/// The HTTP core, run inside the kernel: the host tests prove its logic,
/// these prove that the same code behaves the same when built into the
/// kernel (its lints, its `core`, its stack).
#[cfg(CONFIG_TUX_KUNIT_TEST)]
#[kunit_tests(tux_http)]
mod http_tests {
    use super::http::{parser, path, plan, status::Status};

    #[test]
    fn parses_a_pipelined_get() {
        let buf = b"GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n";
        match parser::parse_request(buf, &parser::Limits::DEFAULT) {
            Ok(parser::Parse::Complete { request, consumed }) => {
                assert_eq!(request.path, b"/a/b.html");
                assert_eq!(request.query, Some(&b"x=1"[..]));
                assert_eq!(request.host, Some(&b"h"[..]));
                assert!(request.wants_keep_alive());
                assert_eq!(buf.get(consumed..), Some(&b"GET / HTTP/1.1\r\n"[..]));
            }
            _ => panic!("request not parsed"),
        }
    }

    #[test]
    fn rejects_smuggling() {
        let buf =
            b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        match parser::parse_request(buf, &parser::Limits::DEFAULT) {
            Err(e) => assert_eq!(e.status(), Status::BadRequest),
            Ok(_) => panic!("CL+TE accepted"),
        }
    }

    #[test]
    fn never_resolves_above_the_root() {
        let mut out = [0u8; 256];
        for bad in [
            &b"/../etc/passwd"[..],
            b"/%2e%2e/x",
            b"/a/%2f/b",
            b"/%c0%ae%c0%ae/x",
            b"/a\\b",
        ] {
            assert!(path::resolve_path(bad, &mut out).is_err());
        }
        let ok = path::resolve_path(b"/a/./b/../c", &mut out).map(|r| r.path.len());
        assert_eq!(ok, Ok(3));
    }

    #[test]
    fn plans_a_range() {
        let buf = b"GET /f.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=10-19\r\n\r\n";
        let Ok(parser::Parse::Complete { request, .. }) =
            parser::parse_request(buf, &parser::Limits::DEFAULT)
        else {
            panic!("request not parsed");
        };
        let cfg = plan::Config::DEFAULT;
        let mut pbuf = [0u8; 64];
        let plan::Route::Static(target) = plan::route(&request, &cfg, &mut pbuf) else {
            panic!("not routed");
        };
        let meta = plan::ObjectMeta {
            size: 100,
            mtime: 1_000_000,
            kind: plan::ObjectKind::File,
            world_readable: true,
        };
        let obj = plan::Object {
            name: target.path,
            lookup: plan::Lookup::Found(meta),
            index: false,
            gzip: None,
        };
        let mut head = [0u8; 512];
        let p = plan::plan_static(&request, &cfg, &target, &obj, 2_000_000, &mut head);
        let Ok(p) = p else { panic!("head too large") };
        assert_eq!(p.status, Status::PartialContent);
        assert_eq!(
            p.body,
            plan::Body::File {
                gzip: false,
                offset: 10,
                len: 10
            }
        );
    }
}
