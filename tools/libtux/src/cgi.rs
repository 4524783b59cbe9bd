// SPDX-License-Identifier: GPL-2.0

//! CGI/1.1 (RFC 3875) as a user module.
//!
//! [`CgiModule`] maps `/prefix/script[/path_info]` to the executable
//! `root/script`, runs it with the RFC 3875 environment and the request
//! body on its standard input, parses the CGI response header (`Status`,
//! `Content-Type`, `Location`, others passed through) and streams its
//! standard output to the client.
//!
//! Safety rules:
//!
//! - The path is percent-decoded and normalised by tux-http's
//!   `resolve_path` (no `..` above the root, no encoded `/`, no controls);
//!   the script is one component directly under `root`, not starting with
//!   `.`, a regular file (not a symlink), executable, and not
//!   world-writable.
//! - Running as root, the child drops to `uid`/`gid` (and only `gid` as
//!   supplementary group) before `exec`; it gets a new session, so a
//!   timeout kills its whole process group.
//! - The module thread never waits without a bound: every wait is a
//!   `poll` with the remaining time to `timeout`; then the group is killed
//!   and the client gets 504 (or, if the answer had begun, a closed
//!   connection). A program that exits or crashes before a valid header is
//!   a 502. Output beyond `max_output` bytes is cut and the connection
//!   closed.
//! - Without a `Content-Length` from the program, the body ends when the
//!   connection closes (`Connection: close`).

use crate::error::{Error, Result};
use crate::head::{is_token, Field};
use crate::request::{Outcome, Request};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Largest CGI response header accepted.
pub const MAX_CGI_HEAD: usize = 16 * 1024;

/// A module running CGI programs from `root` under the URL `prefix`.
///
/// ```no_run
/// use libtux::{cgi::CgiModule, Server};
/// use std::time::Duration;
///
/// let mut cgi = CgiModule::new("/cgi-bin", "/var/www/cgi-bin");
/// cgi.timeout = Duration::from_secs(5);
/// let mut server = Server::new()?;
/// server.register("/cgi-bin", cgi)?;
/// server.run(2)?;
/// # Ok::<(), libtux::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CgiModule {
    /// The directory holding the programs.
    pub root: PathBuf,
    /// The URL prefix (as registered).
    pub prefix: String,
    /// The user the programs run as when the daemon runs as root.
    pub uid: u32,
    /// The group the programs run as when the daemon runs as root.
    pub gid: u32,
    /// The longest a program may run, header and body included.
    pub timeout: Duration,
    /// The most response body bytes passed on.
    pub max_output: u64,
    /// The largest request body accepted (413 above).
    pub max_body: u64,
    /// `SERVER_NAME` when the request has no Host.
    pub server_name: String,
    /// `SERVER_PORT`.
    pub server_port: u16,
}

impl CgiModule {
    /// A module for `prefix` running programs from `root`, as `nobody`
    /// (65534), with a 10 s timeout, 16 MiB of output, 1 MiB of body.
    pub fn new(prefix: &str, root: impl Into<PathBuf>) -> CgiModule {
        CgiModule {
            root: root.into(),
            prefix: prefix.to_string(),
            uid: 65534,
            gid: 65534,
            timeout: Duration::from_secs(10),
            max_output: 16 << 20,
            max_body: 1 << 20,
            server_name: "localhost".to_string(),
            server_port: 80,
        }
    }
}

/// Where a request path leads inside the CGI directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptPath {
    /// The program's file name (one component under the root).
    pub script: String,
    /// `SCRIPT_NAME`: the prefix and the program name.
    pub script_name: String,
    /// `PATH_INFO`: the decoded rest of the path (empty or starting with `/`).
    pub path_info: String,
}

/// Maps a raw request path to a program under `prefix`. Errors carry the
/// status to answer with (400/414 for a bad path, 404 otherwise).
pub fn map_script(prefix: &str, raw_path: &str) -> core::result::Result<ScriptPath, u16> {
    let mut buf = vec![0u8; raw_path.len().saturating_add(1).max(64)];
    let resolved = tux_http::path::resolve_path(raw_path.as_bytes(), &mut buf)
        .map_err(|e| e.status().code())?;
    let path = core::str::from_utf8(resolved.path).map_err(|_| 400u16)?;
    let pfx = prefix.trim_matches('/');
    let rest = if pfx.is_empty() {
        path
    } else if path == pfx {
        ""
    } else {
        path.strip_prefix(pfx)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(404u16)?
    };
    let (script, info) = match rest.split_once('/') {
        Some((s, i)) => (s, format!("/{i}")),
        None => (rest, String::new()),
    };
    if script.is_empty() || script.starts_with('.') {
        return Err(404);
    }
    let mut path_info = info;
    if resolved.dir {
        path_info.push('/');
    }
    let script_name = if pfx.is_empty() {
        format!("/{script}")
    } else {
        format!("/{pfx}/{script}")
    };
    Ok(ScriptPath {
        script: script.to_string(),
        script_name,
        path_info,
    })
}

/// Checks that `root/script` is a program we may run: a regular file (not
/// a symlink), executable by someone, not world-writable. Returns its path
/// or the status to answer (404 missing, 403 otherwise).
pub fn check_program(root: &Path, script: &str) -> core::result::Result<PathBuf, u16> {
    if script.contains('/') || script.starts_with('.') || script.is_empty() {
        return Err(404);
    }
    let p = root.join(script);
    let md = std::fs::symlink_metadata(&p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => 404u16,
        _ => 403,
    })?;
    let mode = md.permissions().mode();
    if !md.file_type().is_file() || mode & 0o111 == 0 || mode & 0o002 != 0 {
        return Err(403);
    }
    Ok(p)
}

/// What the CGI environment is built from.
#[derive(Clone, Debug)]
pub struct EnvInput<'a> {
    /// The method token.
    pub method: &'a str,
    /// The raw query string (without `?`).
    pub query: Option<&'a str>,
    /// `SCRIPT_NAME`.
    pub script_name: &'a str,
    /// `PATH_INFO` (decoded).
    pub path_info: &'a str,
    /// The program's file name, for `SCRIPT_FILENAME`.
    pub script_filename: &'a str,
    /// The client.
    pub remote_addr: Option<IpAddr>,
    /// The client's port.
    pub remote_port: u16,
    /// `SERVER_NAME` when no Host was sent.
    pub server_name: &'a str,
    /// `SERVER_PORT`.
    pub server_port: u16,
    /// `SERVER_PROTOCOL`, e.g. `HTTP/1.1`.
    pub protocol: &'a str,
    /// The request's header fields.
    pub headers: &'a [Field],
    /// The body length (`CONTENT_LENGTH` when non-zero).
    pub content_length: u64,
}

/// Header fields not passed as `HTTP_*`: the body's own (as `CONTENT_*`),
/// credentials (RFC 3875 §4.1.18), and `Proxy` ("httpoxy").
const NOT_PASSED: [&str; 5] = [
    "content-length",
    "content-type",
    "authorization",
    "proxy-authorization",
    "proxy",
];

/// The RFC 3875 environment of a request.
pub fn build_env(i: &EnvInput<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    let host = i
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("host"))
        .and_then(Field::value_str)
        .map(host_name)
        .filter(|h| !h.is_empty());
    set("GATEWAY_INTERFACE", "CGI/1.1".into());
    set("SERVER_SOFTWARE", "tux".into());
    set("SERVER_PROTOCOL", i.protocol.into());
    set("SERVER_NAME", host.unwrap_or(i.server_name).into());
    set("SERVER_PORT", i.server_port.to_string());
    set("REQUEST_METHOD", i.method.into());
    set("QUERY_STRING", i.query.unwrap_or("").into());
    set("SCRIPT_NAME", i.script_name.into());
    set("SCRIPT_FILENAME", i.script_filename.into());
    if !i.path_info.is_empty() {
        set("PATH_INFO", i.path_info.into());
    }
    let uri = match i.query {
        Some(q) => format!("{}{}?{}", i.script_name, i.path_info, q),
        None => format!("{}{}", i.script_name, i.path_info),
    };
    set("REQUEST_URI", uri);
    if let Some(a) = i.remote_addr {
        set("REMOTE_ADDR", a.to_string());
    }
    set("REMOTE_PORT", i.remote_port.to_string());
    if i.content_length > 0 {
        set("CONTENT_LENGTH", i.content_length.to_string());
    }
    if let Some(ct) = i
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("content-type"))
        .and_then(Field::value_str)
    {
        set("CONTENT_TYPE", ct.into());
    }
    set("PATH", "/usr/local/bin:/usr/bin:/bin".into());
    set("REDIRECT_STATUS", "200".into());
    for f in i.headers {
        // Names with '_' would alias '-' names: drop them (as Apache does).
        if NOT_PASSED.iter().any(|n| f.name.eq_ignore_ascii_case(n))
            || !f
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            continue;
        }
        let key = format!("HTTP_{}", f.name.to_ascii_uppercase().replace('-', "_"));
        let val = String::from_utf8_lossy(&f.value).into_owned();
        let sep = if key == "HTTP_COOKIE" { "; " } else { ", " };
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => {
                v.push_str(sep);
                v.push_str(&val);
            }
            None => env.push((key, val)),
        }
    }
    env
}

/// The host name of a Host value: without the port, brackets kept for IPv6.
fn host_name(h: &str) -> &str {
    if h.starts_with('[') {
        match h.find(']') {
            Some(e) => h.get(..=e).unwrap_or(h),
            None => h,
        }
    } else {
        h.split(':').next().unwrap_or(h)
    }
}

/// A parsed CGI response header (RFC 3875 §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgiHead {
    /// The status: from `Status`, else 302 with a `Location`, else 200.
    pub status: u16,
    /// The reason phrase from `Status`, if any.
    pub reason: Option<String>,
    /// The fields to pass on (without `Status` and framing fields).
    pub headers: Vec<(String, String)>,
    /// The program's `Content-Length`, if it gave one.
    pub content_length: Option<u64>,
}

/// Why a CGI response header was refused (the client gets 502).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CgiHeadError {
    /// Longer than [`MAX_CGI_HEAD`] without ending.
    TooLong,
    /// A line that is not `Name: value`.
    BadLine(String),
    /// A bad `Status` or `Content-Length`.
    BadValue(String),
    /// None of Content-Type, Location, Status.
    Empty,
}

/// Fields the server frames itself: never passed on from a program.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
];

/// Parses the CGI response header at the start of `buf`. `Ok(None)`: not
/// complete yet. `Ok(Some((head, n)))`: the body starts at `buf[n..]`.
pub fn parse_cgi_head(buf: &[u8]) -> core::result::Result<Option<(CgiHead, usize)>, CgiHeadError> {
    // Find the empty line: LF LF or LF CR LF.
    let mut end = None;
    let mut i = 0;
    while let Some(p) = buf
        .get(i..)
        .and_then(|s| s.iter().position(|&b| b == b'\n'))
    {
        let lf = i + p;
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => {
                end = Some((lf, lf + 2));
                break;
            }
            Some([b'\r', b'\n', ..]) => {
                end = Some((lf, lf + 3));
                break;
            }
            _ => {}
        }
        i = lf + 1;
    }
    // An empty header (a lone blank line) is refused below as Empty.
    if let Some(rest) = buf
        .strip_prefix(b"\r\n")
        .or_else(|| buf.strip_prefix(b"\n"))
    {
        let _ = rest;
        return Err(CgiHeadError::Empty);
    }
    let Some((head_end, body_start)) = end else {
        return if buf.len() > MAX_CGI_HEAD {
            Err(CgiHeadError::TooLong)
        } else {
            Ok(None)
        };
    };
    if head_end > MAX_CGI_HEAD {
        return Err(CgiHeadError::TooLong);
    }
    let text = core::str::from_utf8(buf.get(..head_end).unwrap_or(&[]))
        .map_err(|_| CgiHeadError::BadLine("not UTF-8".into()))?;
    let mut head = CgiHead {
        status: 200,
        reason: None,
        headers: Vec::new(),
        content_length: None,
    };
    let (mut has_status, mut has_location, mut has_type) = (false, false, false);
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| CgiHeadError::BadLine(line.chars().take(80).collect()))?;
        if !is_token(name) {
            return Err(CgiHeadError::BadLine(line.chars().take(80).collect()));
        }
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(CgiHeadError::BadValue(name.into()));
        }
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "status" => {
                let (code, reason) = match value.split_once(' ') {
                    Some((c, r)) => (c, Some(r.trim())),
                    None => (value, None),
                };
                let code: u16 = code
                    .parse()
                    .ok()
                    .filter(|c| (100..=999).contains(c) && code.len() == 3)
                    .ok_or_else(|| CgiHeadError::BadValue(format!("Status: {value}")))?;
                head.status = code;
                head.reason = reason.filter(|r| !r.is_empty()).map(str::to_string);
                has_status = true;
            }
            "content-length" => {
                let n = value
                    .parse::<u64>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| CgiHeadError::BadValue(format!("Content-Length: {value}")))?;
                head.content_length = Some(n);
            }
            l if HOP_BY_HOP.contains(&l) => {}
            _ => {
                if lname == "location" {
                    has_location = true;
                }
                if lname == "content-type" {
                    has_type = true;
                }
                head.headers.push((name.to_string(), value.to_string()));
            }
        }
    }
    if !(has_status || has_location || has_type) {
        return Err(CgiHeadError::Empty);
    }
    if has_location && !has_status {
        head.status = 302;
    }
    Ok(Some((head, body_start)))
}

impl crate::Module for CgiModule {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        self.serve(req)
    }
}

fn set_nonblocking(fd: libc::c_int) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor we own; no memory is passed.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Kills the child's process group and reaps it without waiting long.
fn kill_and_reap(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: sends a signal; the child leads its own process group.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.kill();
    reap(child, Instant::now() + Duration::from_secs(1));
}

/// Waits for the child until `deadline`; returns its status if it exited.
/// A child still there at the deadline is killed and left to a reaper.
fn reap(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: sends a signal to the child's process group.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            let _ = child.kill();
            // SIGKILL makes it exit soon; wait for it off this thread.
            let pid = child.id();
            let _ = std::thread::Builder::new()
                .name("tux-cgi-reap".into())
                .spawn(move || {
                    let mut status = 0;
                    // SAFETY: waits for our own child by pid.
                    unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
                });
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

enum Ended {
    Eof,
    /// The program wrote more than its Content-Length.
    Complete,
    Timeout,
    OutputCap,
}

/// Whether the program gave a Content-Length and all of it was sent.
fn content_complete(head: Option<&CgiHead>, sent: u64) -> bool {
    head.and_then(|h| h.content_length) == Some(sent)
}

impl CgiModule {
    fn serve(&self, req: &mut Request) -> Result<Outcome> {
        let head = req.head()?.clone();
        let sp = match map_script(&self.prefix, &head.path) {
            Ok(sp) => sp,
            Err(s) => return req.respond_error(s),
        };
        let program = match check_program(&self.root, &sp.script) {
            Ok(p) => p,
            Err(s) => return req.respond_error(s),
        };
        let body = req.read_body_to_end(self.max_body)?;
        let filename = program.to_string_lossy().into_owned();
        let env = build_env(&EnvInput {
            method: &head.method,
            query: head.query.as_deref(),
            script_name: &sp.script_name,
            path_info: &sp.path_info,
            script_filename: &filename,
            remote_addr: req.client_addr(),
            remote_port: req.client_port(),
            server_name: &self.server_name,
            server_port: self.server_port,
            protocol: req.http_version().as_str(),
            headers: &head.fields,
            content_length: body.len() as u64,
        });
        let mut cmd = Command::new(&program);
        cmd.env_clear()
            .envs(env)
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: geteuid has no preconditions.
        let drop_privs = unsafe { libc::geteuid() } == 0;
        let (uid, gid) = (self.uid, self.gid);
        // SAFETY: the closure runs in the child between fork and exec and
        // only makes async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(move || {
                let mut set: libc::sigset_t = core::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::pthread_sigmask(libc::SIG_SETMASK, &set, core::ptr::null_mut());
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if drop_privs {
                    let groups = [gid as libc::gid_t];
                    if libc::setgroups(1, groups.as_ptr()) < 0
                        || libc::setgid(gid as libc::gid_t) < 0
                        || libc::setuid(uid as libc::uid_t) < 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                // The client only sees 502; say why where the operator looks.
                eprintln!("cgi: cannot run {}: {e}", program.display());
                return req.respond_error(502);
            }
        };
        let r = self.pump(req, &mut child, &body);
        match r {
            Ok(o) => Ok(o),
            Err(e) => {
                kill_and_reap(&mut child);
                Err(e)
            }
        }
    }

    /// Feeds the body, reads the output until EOF, timeout or cap, and
    /// answers.
    fn pump(&self, req: &mut Request, child: &mut Child, body: &[u8]) -> Result<Outcome> {
        let deadline = Instant::now() + self.timeout;
        let mut stdin = child.stdin.take();
        let Some(mut stdout) = child.stdout.take() else {
            kill_and_reap(child);
            return req.respond_error(502);
        };
        set_nonblocking(stdout.as_raw_fd())?;
        if let Some(s) = &stdin {
            set_nonblocking(s.as_raw_fd())?;
        }
        let mut written = 0usize;
        if body.is_empty() {
            stdin = None;
        }
        let mut hbuf: Vec<u8> = Vec::new();
        let mut cgi_head: Option<CgiHead> = None;
        let mut out: u64 = 0;
        let mut chunk = vec![0u8; 16 * 1024];
        let ended = loop {
            let now = Instant::now();
            if now >= deadline {
                break Ended::Timeout;
            }
            let ms = deadline
                .saturating_duration_since(now)
                .as_millis()
                .clamp(1, 1000) as libc::c_int;
            let mut fds = [
                libc::pollfd {
                    fd: stdout.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: stdin.as_ref().map_or(-1, |s| s.as_raw_fd()),
                    events: libc::POLLOUT,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd for the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::Io(e));
            }
            let [out_fd, in_fd] = fds;
            if in_fd.revents != 0 {
                if let Some(s) = stdin.as_mut() {
                    match s.write(body.get(written..).unwrap_or(&[])) {
                        Ok(k) => written += k,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        // The program does not read its input: fine.
                        Err(_) => written = body.len(),
                    }
                }
                if written >= body.len() {
                    stdin = None; // EOF for the program
                }
            }
            if out_fd.revents == 0 {
                continue;
            }
            let k = match stdout.read(&mut chunk) {
                Ok(0) => break Ended::Eof,
                Ok(k) => k,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::Interrupted =>
                {
                    continue
                }
                Err(e) => return Err(Error::Io(e)),
            };
            let data = chunk.get(..k).unwrap_or(&[]);
            let body_part: Vec<u8> = if cgi_head.is_none() {
                hbuf.extend_from_slice(data);
                match parse_cgi_head(&hbuf) {
                    Ok(None) => continue,
                    Err(_) => {
                        kill_and_reap(child);
                        return req.respond_error(502);
                    }
                    Ok(Some((h, n))) => {
                        let hdrs: Vec<(&str, &str)> = h
                            .headers
                            .iter()
                            .map(|(a, b)| (a.as_str(), b.as_str()))
                            .collect();
                        if let Err(e) = req.start_response(
                            h.status,
                            h.reason.as_deref(),
                            &hdrs,
                            h.content_length,
                        ) {
                            if !req.head_sent() {
                                kill_and_reap(child);
                                return req.respond_error(502);
                            }
                            return Err(e);
                        }
                        let rest = hbuf.get(n..).unwrap_or(&[]).to_vec();
                        cgi_head = Some(h);
                        rest
                    }
                }
            } else {
                data.to_vec()
            };
            let limit = cgi_head
                .as_ref()
                .and_then(|h| h.content_length)
                .unwrap_or(u64::MAX)
                .min(self.max_output);
            let room = usize::try_from(limit.saturating_sub(out)).unwrap_or(usize::MAX);
            let send = body_part.get(..room.min(body_part.len())).unwrap_or(&[]);
            req.send_body(send)?;
            out = out.saturating_add(send.len() as u64);
            if body_part.len() > send.len() {
                // More output than the answer may carry: the program's own
                // Content-Length (the answer is complete) or max_output.
                if content_complete(cgi_head.as_ref(), out) {
                    break Ended::Complete;
                }
                break Ended::OutputCap;
            }
        };
        drop(stdin);
        match ended {
            // Everything announced was sent: stop the program, keep the answer.
            Ended::Complete => {
                kill_and_reap(child);
                req.finish()
            }
            Ended::Timeout if content_complete(cgi_head.as_ref(), out) => {
                kill_and_reap(child);
                req.finish()
            }
            Ended::Timeout | Ended::OutputCap => {
                kill_and_reap(child);
                if req.head_sent() {
                    req.abort()
                } else {
                    req.respond_error(504)
                }
            }
            Ended::Eof => {
                let status = reap(child, deadline);
                match cgi_head {
                    None => {
                        let _ = status.map(|s| s.signal());
                        req.respond_error(502)
                    }
                    Some(h) => match h.content_length {
                        Some(cl) if cl != out => req.abort(),
                        _ => req.finish(),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_scripts_and_path_info() {
        let sp = map_script("/cgi-bin", "/cgi-bin/env.sh/a%20b/c").unwrap();
        assert_eq!(sp.script, "env.sh");
        assert_eq!(sp.script_name, "/cgi-bin/env.sh");
        assert_eq!(sp.path_info, "/a b/c");
        let sp = map_script("/cgi-bin", "/cgi-bin/x").unwrap();
        assert_eq!(sp.path_info, "");
        let sp = map_script("/cgi-bin", "/cgi-bin/x/").unwrap();
        assert_eq!(sp.path_info, "/");
        let sp = map_script("/a/b", "/a/b/run/p").unwrap();
        assert_eq!(
            (
                sp.script.as_str(),
                sp.script_name.as_str(),
                sp.path_info.as_str()
            ),
            ("run", "/a/b/run", "/p")
        );
        // Dot segments inside the prefix are resolved first.
        let sp = map_script("/cgi-bin", "/x/../cgi-bin/./y").unwrap();
        assert_eq!(sp.script, "y");
    }

    #[test]
    fn refuses_traversal_and_odd_paths() {
        assert_eq!(map_script("/cgi-bin", "/cgi-bin/../etc/passwd"), Err(404));
        assert_eq!(
            map_script("/cgi-bin", "/cgi-bin/../../etc/passwd"),
            Err(400)
        );
        assert_eq!(
            map_script("/cgi-bin", "/cgi-bin/%2e%2e/%2e%2e/bin/sh"),
            Err(400)
        );
        assert_eq!(map_script("/cgi-bin", "/cgi-bin/a%2fb"), Err(400));
        assert_eq!(map_script("/cgi-bin", "/cgi-bin/a%00"), Err(400));
        assert_eq!(map_script("/cgi-bin", "/cgi-bin/.hidden"), Err(404));
        assert_eq!(map_script("/cgi-bin", "/cgi-bin"), Err(404));
        assert_eq!(map_script("/cgi-bin", "/cgi-bin/"), Err(404));
        assert_eq!(map_script("/cgi-bin", "/cgi-binx/y"), Err(404));
        assert_eq!(map_script("/cgi-bin", "/other/y"), Err(404));
        assert_eq!(map_script("/cgi-bin", "relative"), Err(400));
    }

    #[test]
    fn checks_programs_on_disk() {
        let dir = std::env::temp_dir().join(format!("libtux-cgi-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let mk = |name: &str, mode: u32| {
            let p = dir.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        mk("ok", 0o755);
        mk("noexec", 0o644);
        mk("ww", 0o777);
        std::os::unix::fs::symlink("/bin/sh", dir.join("link")).unwrap();
        assert_eq!(check_program(&dir, "ok"), Ok(dir.join("ok")));
        assert_eq!(check_program(&dir, "noexec"), Err(403));
        assert_eq!(check_program(&dir, "ww"), Err(403));
        assert_eq!(check_program(&dir, "link"), Err(403));
        assert_eq!(check_program(&dir, "sub"), Err(403));
        assert_eq!(check_program(&dir, "missing"), Err(404));
        assert_eq!(check_program(&dir, "../ok"), Err(404));
        assert_eq!(check_program(&dir, ".ok"), Err(404));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn field(n: &str, v: &str) -> Field {
        Field {
            name: n.into(),
            value: v.as_bytes().to_vec(),
        }
    }

    #[test]
    fn builds_the_rfc3875_environment() {
        let headers = vec![
            field("Host", "example.org:8080"),
            field("User-Agent", "curl/8"),
            field("Content-Type", "application/x-www-form-urlencoded"),
            field("Content-Length", "3"),
            field("Cookie", "a=1"),
            field("cookie", "b=2"),
            field("Accept", "text/html"),
            field("accept", "*/*"),
            field("Proxy", "http://evil"),
            field("Authorization", "Basic x"),
            field("X_Under", "x"),
        ];
        let env = build_env(&EnvInput {
            method: "POST",
            query: Some("q=1&r=%20"),
            script_name: "/cgi-bin/t",
            path_info: "/p",
            script_filename: "/srv/cgi/t",
            remote_addr: Some("10.0.2.2".parse().unwrap()),
            remote_port: 5555,
            server_name: "fallback",
            server_port: 80,
            protocol: "HTTP/1.1",
            headers: &headers,
            content_length: 3,
        });
        let get = |k: &str| env.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GATEWAY_INTERFACE"), Some("CGI/1.1"));
        assert_eq!(get("SERVER_PROTOCOL"), Some("HTTP/1.1"));
        assert_eq!(get("REQUEST_METHOD"), Some("POST"));
        assert_eq!(get("QUERY_STRING"), Some("q=1&r=%20"));
        assert_eq!(get("SCRIPT_NAME"), Some("/cgi-bin/t"));
        assert_eq!(get("PATH_INFO"), Some("/p"));
        assert_eq!(get("REQUEST_URI"), Some("/cgi-bin/t/p?q=1&r=%20"));
        assert_eq!(get("REMOTE_ADDR"), Some("10.0.2.2"));
        assert_eq!(get("REMOTE_PORT"), Some("5555"));
        assert_eq!(get("CONTENT_LENGTH"), Some("3"));
        assert_eq!(
            get("CONTENT_TYPE"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(get("SERVER_NAME"), Some("example.org"));
        assert_eq!(get("SERVER_PORT"), Some("80"));
        assert_eq!(get("HTTP_USER_AGENT"), Some("curl/8"));
        assert_eq!(get("HTTP_HOST"), Some("example.org:8080"));
        assert_eq!(get("HTTP_COOKIE"), Some("a=1; b=2"));
        assert_eq!(get("HTTP_ACCEPT"), Some("text/html, */*"));
        for absent in [
            "HTTP_PROXY",
            "HTTP_AUTHORIZATION",
            "HTTP_CONTENT_LENGTH",
            "HTTP_CONTENT_TYPE",
            "HTTP_X_UNDER",
        ] {
            assert_eq!(get(absent), None, "{absent}");
        }
        // Every name appears once.
        let mut names: Vec<_> = env.iter().map(|(k, _)| k.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), env.len());
    }

    #[test]
    fn environment_without_body_query_or_host() {
        let env = build_env(&EnvInput {
            method: "GET",
            query: None,
            script_name: "/c/t",
            path_info: "",
            script_filename: "/srv/t",
            remote_addr: None,
            remote_port: 1,
            server_name: "srv",
            server_port: 8080,
            protocol: "HTTP/1.0",
            headers: &[],
            content_length: 0,
        });
        let get = |k: &str| env.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        assert_eq!(get("QUERY_STRING"), Some(""));
        assert_eq!(get("SERVER_NAME"), Some("srv"));
        assert_eq!(get("CONTENT_LENGTH"), None);
        assert_eq!(get("PATH_INFO"), None);
        assert_eq!(get("REMOTE_ADDR"), None);
        assert_eq!(host_name("[::1]:80"), "[::1]");
    }

    #[test]
    fn parses_cgi_response_headers() {
        let (h, n) = parse_cgi_head(b"Content-Type: text/plain\r\nX-A:  b \r\n\r\nbody")
            .unwrap()
            .unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(
            h.headers,
            vec![
                ("Content-Type".into(), "text/plain".into()),
                ("X-A".into(), "b".into())
            ]
        );
        assert_eq!(
            &b"Content-Type: text/plain\r\nX-A:  b \r\n\r\nbody"[n..],
            b"body"
        );
        let (h, n) = parse_cgi_head(b"Status: 404 Nope\nContent-Type: text/html\nContent-Length: 4\nConnection: keep-alive\n\nbody").unwrap().unwrap();
        assert_eq!(
            (h.status, h.reason.as_deref(), h.content_length),
            (404, Some("Nope"), Some(4))
        );
        assert_eq!(h.headers.len(), 1);
        assert_eq!(&b"Status: 404 Nope\nContent-Type: text/html\nContent-Length: 4\nConnection: keep-alive\n\nbody"[n..], b"body");
        let (h, _) = parse_cgi_head(b"Location: http://x/\n\n").unwrap().unwrap();
        assert_eq!(h.status, 302);
        let (h, _) = parse_cgi_head(b"Status: 201\r\nLocation: /n\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.status, h.reason), (201, None));
    }

    #[test]
    fn shell_printf_header_with_body() {
        let out = b"Content-Type: text/plain\r\n\r\nREQUEST_METHOD=GET\nQUERY_STRING=\n";
        let (h, n) = parse_cgi_head(out).unwrap().unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(&out[n..], b"REQUEST_METHOD=GET\nQUERY_STRING=\n");
    }

    #[test]
    fn content_complete_needs_the_programs_length() {
        let h = |cl| CgiHead {
            status: 200,
            reason: None,
            headers: Vec::new(),
            content_length: cl,
        };
        assert!(content_complete(Some(&h(Some(6))), 6));
        assert!(!content_complete(Some(&h(Some(6))), 5));
        assert!(!content_complete(Some(&h(None)), 6));
        assert!(!content_complete(None, 0));
    }

    #[test]
    fn incomplete_and_bad_cgi_headers() {
        assert_eq!(parse_cgi_head(b"Content-Type: text/plain\r\n"), Ok(None));
        assert_eq!(parse_cgi_head(b""), Ok(None));
        assert_eq!(
            parse_cgi_head(&vec![b'a'; MAX_CGI_HEAD + 1]),
            Err(CgiHeadError::TooLong)
        );
        assert!(matches!(
            parse_cgi_head(b"hello world\n\n"),
            Err(CgiHeadError::BadLine(_))
        ));
        assert!(matches!(
            parse_cgi_head(b"Bad Name: x\n\n"),
            Err(CgiHeadError::BadLine(_))
        ));
        assert!(matches!(
            parse_cgi_head(b"Status: abc\n\n"),
            Err(CgiHeadError::BadValue(_))
        ));
        assert!(matches!(
            parse_cgi_head(b"Status: 2000\n\n"),
            Err(CgiHeadError::BadValue(_))
        ));
        assert!(matches!(
            parse_cgi_head(b"Content-Type: a\nContent-Length: -1\n\n"),
            Err(CgiHeadError::BadValue(_))
        ));
        assert_eq!(parse_cgi_head(b"X-Only: 1\n\n"), Err(CgiHeadError::Empty));
        assert_eq!(parse_cgi_head(b"\r\n\r\nbody"), Err(CgiHeadError::Empty));
    }
}
