// SPDX-License-Identifier: GPL-2.0

//! `idleconns N PORT [PATH]`: hold N idle keep-alive connections to 127.0.0.1:PORT.
//!
//! For `make bench`'s memory measurement: every connection sends one request for PATH
//! (default `/1k.bin`) and reads its response, so that the server holds it as an idle
//! keep-alive connection, not as a half-open one. Then the program prints `READY <n>` and
//! waits until its standard input ends, and closes them all.
//!
//! Exits non-zero (and says why) if a connection cannot be made or is not answered 200.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

fn one(port: u16, path: &str) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    // Read the head, then exactly Content-Length bytes of body.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err("response head too long".into());
        }
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => return Err("closed before the response head ended".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {}", head.lines().next().unwrap_or("")));
    }
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or("no Content-Length")?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).map_err(|e| format!("body: {e}"))?;
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(port)) = (
        args.get(1).and_then(|a| a.parse::<usize>().ok()),
        args.get(2).and_then(|a| a.parse::<u16>().ok()),
    ) else {
        eprintln!("usage: idleconns N PORT [PATH]");
        return ExitCode::from(2);
    };
    let path = args.get(3).map_or("/1k.bin", String::as_str);
    // One descriptor per connection, plus a few.
    let want = (n + 64) as libc::rlim_t;
    let lim = libc::rlimit {
        rlim_cur: want,
        rlim_max: want,
    };
    // SAFETY: `lim` is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        eprintln!("idleconns: cannot raise RLIMIT_NOFILE to {want}");
        return ExitCode::FAILURE;
    }
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        match one(port, path) {
            Ok(s) => conns.push(s),
            Err(e) => {
                eprintln!("idleconns: connection {i}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("READY {}", conns.len());
    let _ = std::io::stdout().flush();
    // Hold them until standard input ends.
    let mut line = String::new();
    let stdin = std::io::stdin();
    while stdin
        .lock()
        .read_line(&mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        line.clear();
    }
    drop(conns);
    ExitCode::SUCCESS
}
