// SPDX-License-Identifier: GPL-2.0

//! `srcconns HOLD_FROM N PORT GET_FROM...`: connections to 127.0.0.1:PORT (or
//! [::1]:PORT, from an IPv6 address) from chosen source addresses, for the
//! per-source connection limit test.
//!
//! It opens N connections from HOLD_FROM (an address of the loopback network,
//! e.g. 127.0.0.2) that each send half a request head, so that the server
//! keeps them open, waits a second for the server to accept them, then sends
//! one complete `GET /index.html` from each GET_FROM address in turn and
//! prints `<address> <status code>` for each (`<address> closed` if the
//! connection ended without an answer). Everything is closed at exit.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::process::ExitCode;
use std::time::Duration;

mod sockaddr;
use sockaddr::sockaddr;

/// A TCP connection from `from` to the loopback address of its family
/// (127.0.0.1 or ::1), port `port`.
fn connect_from(from: IpAddr, port: u16) -> std::io::Result<TcpStream> {
    let family = if from.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: a plain system call.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let to = match from {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    let (local, len) = sockaddr(SocketAddr::new(from, 0));
    let (remote, _) = sockaddr(SocketAddr::new(to, port));
    // SAFETY: `fd` is a valid socket; the addresses are valid sockaddrs of its family,
    // `len` bytes long.
    if unsafe { libc::bind(fd, (&raw const local).cast(), len) } != 0
        || unsafe { libc::connect(fd, (&raw const remote).cast(), len) } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(stream)
}

fn status(from: IpAddr, port: u16) -> String {
    let mut s = match connect_from(from, port) {
        Ok(s) => s,
        Err(e) => return format!("connect: {e}"),
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = s.write_all(b"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let text = String::from_utf8_lossy(&buf[..got]).into_owned();
    text.split(' ')
        .nth(1)
        .map_or_else(|| "closed".to_string(), str::to_string)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| {
        let hold: IpAddr = args.first()?.parse().ok()?;
        let n: usize = args.get(1)?.parse().ok()?;
        let port: u16 = args.get(2)?.parse().ok()?;
        let gets: Option<Vec<IpAddr>> = args.iter().skip(3).map(|a| a.parse().ok()).collect();
        Some((hold, n, port, gets?))
    })();
    let Some((hold, n, port, gets)) = parsed else {
        eprintln!("usage: srcconns HOLD_FROM N PORT GET_FROM...");
        return ExitCode::from(2);
    };
    let mut held = Vec::new();
    for _ in 0..n {
        match connect_from(hold, port) {
            Ok(mut s) => {
                let _ = s.write_all(b"GET /index.html HTTP/1.1\r\n");
                held.push(s);
            }
            Err(e) => {
                eprintln!("srcconns: connect from {hold}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    for from in gets {
        println!("{from} {}", status(from, port));
    }
    drop(held);
    ExitCode::SUCCESS
}
