// SPDX-License-Identifier: GPL-2.0

//! `tuxnetns`: TUX from a network namespace other than the initial one.
//!
//! Each network namespace runs its own TUX. From a new namespace (made here
//! with `unshare(CLONE_NEWNET)`, as root of the initial user namespace),
//! `tux(2)` acts on that namespace's server and modules: `STARTUP` starts
//! its server, a module registers there, and `SHUTDOWN` stops that server
//! only (a second one finds none: `ESRCH`), while the initial namespace's
//! server runs on (checked by `52-netns.sh`). One `ok - ` or `not ok - ` line
//! per check; exit status 1 if any failed.

use std::process::ExitCode;
use std::ptr;

use tux_abi::{Action, TuxReq, NR_TUX, TUX_VERSION};

fn tux(action: Action, req: Option<&mut TuxReq>) -> i64 {
    let (p, size) = match req {
        Some(r) => (
            (r as *mut TuxReq).cast::<libc::c_void>(),
            core::mem::size_of::<TuxReq>(),
        ),
        None => (ptr::null_mut(), 0),
    };
    // SAFETY: `p` is null with size 0, or a live `TuxReq` of `size` bytes whose
    // name pointer (if any) is a live slice of `name_len` bytes.
    let r = unsafe { libc::syscall(NR_TUX, action as libc::c_uint, p, size) };
    if r < 0 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        r
    }
}

fn main() -> ExitCode {
    let mut failed = 0;
    let mut check = |name: &str, ok: bool, got: String| {
        if ok {
            println!("ok - {name}");
        } else {
            println!("not ok - {name}: got {got}");
            failed += 1;
        }
    };
    // SAFETY: unshare() takes no pointers.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        check(
            "unshare(CLONE_NEWNET)",
            false,
            std::io::Error::last_os_error().to_string(),
        );
        return ExitCode::FAILURE;
    }
    let sysctl = std::path::Path::new("/proc/sys/net/tux/running").exists();
    check(
        "a new network namespace has its own /proc/sys/net/tux",
        sysctl,
        "none".into(),
    );
    let v = tux(Action::QueryVersion, None);
    check("QUERY_VERSION", v > 0, v.to_string());
    let r = tux(Action::Startup, None);
    check(
        "STARTUP starts the namespace's server",
        r == 0,
        r.to_string(),
    );
    let r = tux(Action::Startup, None);
    check(
        "STARTUP again -> EBUSY",
        r == -i64::from(libc::EBUSY),
        r.to_string(),
    );
    let name = b"/netns";
    let mut req = TuxReq {
        version: TUX_VERSION,
        name: name.as_ptr() as u64,
        name_len: name.len() as u64,
        ..TuxReq::default()
    };
    let r = tux(Action::RegisterModule, Some(&mut req));
    check("REGISTER_MODULE /netns", r >= 0, r.to_string());
    let r = tux(Action::UnregisterModule, Some(&mut req));
    check("UNREGISTER_MODULE /netns", r == 0, r.to_string());
    let r = tux(Action::Shutdown, None);
    check(
        "SHUTDOWN stops the namespace's server",
        r == 0,
        r.to_string(),
    );
    let r = tux(Action::Shutdown, None);
    check(
        "SHUTDOWN again -> ESRCH (the initial namespace's server is not this one)",
        r == -i64::from(libc::ESRCH),
        r.to_string(),
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
