// SPDX-License-Identifier: GPL-2.0

//! `finlost [PORT]`: does the server retransmit a FIN that was lost?
//!
//! A client on 127.0.0.1 that drops every TCP segment with FIN set that
//! reaches it (a classic BPF socket filter), fetches `/index.html` on a
//! keep-alive connection and then closes its side (`shutdown(SHUT_WR)`). The
//! server answers the client's FIN with its own, which the filter drops: the
//! server's socket is in `LAST_ACK`, and must have a retransmission timer
//! armed (`/proc/net/tcp`: `tr` not 0). Once the filter is removed, the next
//! retransmission is acknowledged and the server's socket must go within
//! 15 s. Prints what it saw; exits 0 only if both hold.
//!
//! A socket whose timers are gone stays in `LAST_ACK` for good: kernel memory
//! a remote client can make the server leak at will.

use std::io::{Read, Write};
use std::mem::size_of;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The server's row of `/proc/net/tcp` for the connection from client port `cport`:
/// (state, tx_queue, timer kind, retransmissions).
fn server_row(port: u16, cport: u16) -> Option<(u32, u32, u32, u32)> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let local = format!("0100007F:{port:04X}");
    let remote = format!("0100007F:{cport:04X}");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 || f[1] != local || f[2] != remote {
            continue;
        }
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        let st = hex(f[3])?;
        let tx = hex(f[4].split(':').next()?)?;
        let tr = hex(f[5].split(':').next()?)?;
        let retr = hex(f[6])?;
        return Some((st, tx, tr, retr));
    }
    None
}

fn main() -> ExitCode {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(80);
    let mut s = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("finlost: connect: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let cport = s.local_addr().map(|a| a.port()).unwrap_or(0);
    // ldb [13] (the TCP flags: a socket filter sees the segment from its TCP header);
    // jset #0x01 (FIN); drop it, keep everything else.
    let code = [
        libc::sock_filter {
            code: 0x30,
            jt: 0,
            jf: 0,
            k: 13,
        },
        libc::sock_filter {
            code: 0x45,
            jt: 0,
            jf: 1,
            k: 0x01,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0xffff_ffff,
        },
    ];
    let prog = libc::sock_fprog {
        len: code.len() as u16,
        filter: code.as_ptr().cast_mut(),
    };
    let fd = s.as_raw_fd();
    // SAFETY: `fd` is a socket; `prog` points to `code`, alive across the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const prog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        eprintln!(
            "finlost: SO_ATTACH_FILTER: {}",
            std::io::Error::last_os_error()
        );
        return ExitCode::FAILURE;
    }
    if s.write_all(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
        .is_err()
    {
        eprintln!("finlost: send failed");
        return ExitCode::FAILURE;
    }
    // The whole response: its head, then Content-Length bytes.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |got: &[u8]| -> bool {
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        got.len() >= end + 4 + len
    };
    while !complete(&got) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {
                eprintln!("finlost: the response did not arrive");
                return ExitCode::FAILURE;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let _ = s.shutdown(Shutdown::Write);
    // Wait for the server to close its side (LAST_ACK), then a little more.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10)
        && !matches!(server_row(port, cport), Some((9, ..)))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let lost = server_row(port, cport);
    println!("with the FIN dropped: {lost:?} (state, tx_queue, timer, retransmissions)");
    let mut ok = true;
    match lost {
        Some((9, _, tr, _)) if tr != 0 => {}
        Some((9, tx, 0, retr)) => {
            println!("LAST_ACK with no timer armed (tx_queue {tx}, {retr} retransmissions)");
            ok = false;
        }
        other => println!("no server socket in LAST_ACK: {other:?}"),
    }
    let zero: libc::c_int = 0;
    // SAFETY: `fd` is a socket; the option takes an int that is ignored.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DETACH_FILTER,
            (&raw const zero).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    let t0 = Instant::now();
    while let Some(row) = server_row(port, cport) {
        if t0.elapsed() > Duration::from_secs(15) {
            println!("still there 15 s after the filter went: {row:?}");
            ok = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(s);
    if ok {
        println!("the lost FIN was sent again and acknowledged");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
