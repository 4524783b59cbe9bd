// SPDX-License-Identifier: GPL-2.0

//! `listen1 [--v6|--v6only] [--uid UID] [--port PORT] [--wait SECS]`: a stand-in for a
//! fallback server of the hand-off, for the hand-off tests.
//!
//! It listens on PORT (8080) of `0.0.0.0`, or with `--v6` of `[::]` with
//! `IPV6_V6ONLY` off (dual-stack, the default of Go, Apache and Python), or
//! with `--v6only` of `[::]` with it on (nginx's `listen [::]:PORT`), as
//! UID when given (dropping root before it binds, as an unprivileged user
//! would). It answers at most one connection: it reads the request head,
//! answers `200` with "listen1 got <request line> from <peer>" and closes,
//! then exits. It prints one line: `accepted <peer> <request line>`, or
//! `nothing` when no connection came within SECS (10) seconds.
//!
//! busybox `nc -l` would do for the listening, but not for the uid, the
//! family and the bounded wait.

use std::io::{Read, Write};
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitCode;

mod sockaddr;
use sockaddr::sockaddr;

fn fail(what: &str) -> ExitCode {
    eprintln!("listen1: {what}: {}", std::io::Error::last_os_error());
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let mut v6 = false;
    let mut v6only = false;
    let mut uid: Option<u32> = None;
    let mut port: u16 = 8080;
    let mut wait: i32 = 10;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let val = |args: &mut dyn Iterator<Item = String>| args.next().unwrap_or_default();
        match a.as_str() {
            "--v6" => v6 = true,
            "--v6only" => (v6, v6only) = (true, true),
            "--uid" => uid = val(&mut args).parse().ok(),
            "--port" => port = val(&mut args).parse().unwrap_or(0),
            "--wait" => wait = val(&mut args).parse().unwrap_or(10),
            _ => {
                eprintln!("usage: listen1 [--v6|--v6only] [--uid UID] [--port PORT] [--wait SECS]");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(uid) = uid {
        // SAFETY: plain system calls on integers.
        if unsafe { libc::setgroups(0, std::ptr::null()) } != 0
            || unsafe { libc::setgid(uid) } != 0
            || unsafe { libc::setuid(uid) } != 0
        {
            return fail("dropping root");
        }
    }
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: a plain system call.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return fail("socket");
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let zero: libc::c_int = 0;
    // SAFETY: `fd` is valid; the option values are c_ints of the given size.
    unsafe {
        let int = size_of::<libc::c_int>() as libc::socklen_t;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&raw const one).cast(),
            int,
        );
        if v6 {
            libc::setsockopt(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                if v6only {
                    &raw const one
                } else {
                    &raw const zero
                }
                .cast(),
                int,
            );
        }
    }
    let any = if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let (sa, len) = sockaddr(SocketAddr::new(any, port));
    // SAFETY: `fd` is a valid socket of `sa`'s family; `sa` holds a valid address,
    // `len` bytes long.
    let rc = unsafe { libc::bind(fd, (&raw const sa).cast(), len) };
    // SAFETY: `fd` is a valid socket.
    if rc != 0 || unsafe { libc::listen(fd, 16) } != 0 {
        return fail("bind/listen");
    }
    println!("listening");
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd.
    if unsafe { libc::poll(&mut pfd, 1, wait.saturating_mul(1000)) } <= 0 {
        println!("nothing");
        return ExitCode::SUCCESS;
    }
    // SAFETY: all zeroes is a valid sockaddr_storage; `len` is its size.
    let mut peer: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `fd` is a listening socket; `peer` and `len` are valid for writing.
    let cfd = unsafe { libc::accept4(fd, (&raw mut peer).cast(), &mut len, libc::SOCK_CLOEXEC) };
    if cfd < 0 {
        return fail("accept");
    }
    drop(sock);
    // SAFETY: `cfd` is a new descriptor that nothing else owns.
    let mut conn = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(cfd) });
    let peer = match i32::from(peer.ss_family) {
        // SAFETY: the family says which address the storage holds.
        libc::AF_INET => {
            let sa: libc::sockaddr_in = unsafe { *(&raw const peer).cast() };
            std::net::Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)).to_string()
        }
        libc::AF_INET6 => {
            // SAFETY: as above.
            let sa: libc::sockaddr_in6 = unsafe { *(&raw const peer).cast() };
            std::net::Ipv6Addr::from(sa.sin6_addr.s6_addr).to_string()
        }
        f => format!("family-{f}"),
    };
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line =
        String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or(b"")).into_owned();
    println!("accepted {peer} {line}");
    let body = format!("listen1 got {line} from {peer}\n");
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    ExitCode::SUCCESS
}
