// SPDX-License-Identifier: GPL-2.0

//! `mksock PATH`: leave a Unix-domain socket inode at PATH.
//!
//! busybox has `mkfifo` and `mknod` but nothing that makes a socket inode;
//! the hostile-docroot guest test needs one to check that TUX never serves
//! (nor blocks on) a socket found in the document root. Binding creates the
//! inode; it stays after the listener is dropped.

use std::os::unix::net::UnixListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: mksock PATH");
        return ExitCode::from(2);
    };
    match UnixListener::bind(&path) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mksock: {}: {e}", path.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}
