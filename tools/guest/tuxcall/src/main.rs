// SPDX-License-Identifier: GPL-2.0

//! `tuxcall-test`: exercises every action of `tux(2)` inside the test guest.
//!
//! Runs as root with TUX serving the document root on 127.0.0.1:80. Every
//! check prints `ok - <name>` or `not ok - <name>: <expected> vs <got>`; the
//! last line is `N passed, M failed` and the exit status is 1 if any failed.
//! Lines starting with `#` are notes.
//!
//! The system call is made raw (`libc::syscall`) so that sizes, versions and
//! pointers can be wrong on purpose. Every blocking step is bounded: client
//! sockets time out after 5 s, a blocked `EVENTLOOP` is interrupted by a
//! signal, and a watchdog ends the process after 60 s.

use std::{
    ffi::c_void,
    fmt::Display,
    io::{ErrorKind, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::fd::AsRawFd,
    ptr,
    sync::{
        atomic::{AtomicU32, Ordering::Relaxed},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use tux_abi::{
    http_version, method, pack_version, Action, TuxReq, NR_TUX, TUX_DATE_LEN, TUX_MAX_THREADS,
    TUX_REQ_SIZE_MAX, TUX_REQ_SIZE_VER0, TUX_RETURN_EXIT, TUX_RETURN_SIGNAL,
    TUX_RETURN_USERSPACE_REQUEST, TUX_VERSION, TUX_VERSION_MAJOR, TUX_VERSION_MINOR,
};

/// `sizeof(struct tux_req)`.
const REQ_SIZE: usize = core::mem::size_of::<TuxReq>();
/// A kernel (direct map) address: never accessible from userspace.
const KERNEL_ADDR: u64 = 0xffff_8880_0000_0000;
/// An id no request has (ids count up from 1).
const RANDOM_ID: u64 = 0x7fff_dead_beef_0001;
/// The client's read/write timeout.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an `EVENTLOOP` that should find a request may block.
const LOOP_TIMEOUT: Duration = Duration::from_secs(5);

static PASSED: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);

// ---------------------------------------------------------------------------
// Reporting

fn errname(e: i32) -> String {
    let n = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::E2BIG => "E2BIG",
        libc::EPROTO => "EPROTO",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("errno {e}"),
    };
    n.to_string()
}

/// A return value as the kernel gave it: a number or `-ENAME`.
fn fmt_ret(r: i64) -> String {
    if r < 0 {
        let e = i32::try_from(-r).unwrap_or(i32::MAX);
        format!("-{}", errname(e))
    } else {
        format!("{r}")
    }
}

fn check(name: &str, ok: bool, expected: impl Display, got: impl Display) -> bool {
    if ok {
        PASSED.fetch_add(1, Relaxed);
        println!("ok - {name}");
    } else {
        FAILED.fetch_add(1, Relaxed);
        println!("not ok - {name}: {expected} vs {got}");
    }
    ok
}

fn note(msg: impl Display) {
    println!("# {msg}");
}

/// Checks that `got` is one of `wants` (values, or `-errno`).
fn expect_any(name: &str, got: i64, wants: &[i64]) -> bool {
    let exp = wants
        .iter()
        .map(|&w| fmt_ret(w))
        .collect::<Vec<_>>()
        .join(" or ");
    check(name, wants.contains(&got), exp, fmt_ret(got))
}

fn expect(name: &str, got: i64, want: i64) -> bool {
    expect_any(name, got, &[want])
}

fn expect_err(name: &str, got: i64, errno: i32) -> bool {
    expect(name, got, neg(errno))
}

fn expect_nonneg(name: &str, got: i64) -> bool {
    check(name, got >= 0, ">= 0", fmt_ret(got))
}

fn neg(errno: i32) -> i64 {
    -i64::from(errno)
}

fn fail(name: &str, expected: impl Display, got: impl Display) {
    check(name, false, expected, got);
}

// ---------------------------------------------------------------------------
// The system call

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// `tux(action, ptr, size)`: the result, or `-errno`. Async-signal-safe.
fn sys(action: u32, ptr: *mut c_void, size: usize) -> i64 {
    // SAFETY: the kernel validates `ptr` and every pointer inside the block; a bad one
    // is -EFAULT. Blocks this program passes on purpose are either owned buffers of at
    // least `size` bytes or addresses the kernel must refuse.
    let r = unsafe { libc::syscall(NR_TUX, action as libc::c_uint, ptr, size) };
    if r < 0 {
        neg(errno())
    } else {
        r
    }
}

/// `tux(action, r, sizeof *r)`.
fn call(a: Action, r: &mut TuxReq) -> i64 {
    sys(a as u32, (r as *mut TuxReq).cast(), REQ_SIZE)
}

/// `tux(action, NULL, 0)`.
fn call_null(a: Action) -> i64 {
    sys(a as u32, ptr::null_mut(), 0)
}

fn req() -> TuxReq {
    TuxReq {
        version: TUX_VERSION,
        ..TuxReq::default()
    }
}

fn req_id(id: u64) -> TuxReq {
    TuxReq { id, ..req() }
}

fn req_nr(nr: u32) -> TuxReq {
    TuxReq {
        thread_nr: nr,
        ..req()
    }
}

/// A block naming `name` (which must outlive the calls made with it).
fn req_name(name: &[u8]) -> TuxReq {
    TuxReq {
        name: name.as_ptr() as u64,
        name_len: name.len() as u64,
        ..req()
    }
}

fn set_buf(r: &mut TuxReq, buf: &mut [u8]) {
    r.buf = buf.as_mut_ptr() as u64;
    r.buf_len = buf.len() as u64;
}

fn set_cbuf(r: &mut TuxReq, buf: &[u8]) {
    r.buf = buf.as_ptr() as u64;
    r.buf_len = buf.len() as u64;
}

fn register(name: &[u8]) -> i64 {
    call(Action::RegisterModule, &mut req_name(name))
}

fn unregister(name: &[u8]) -> i64 {
    call(Action::UnregisterModule, &mut req_name(name))
}

fn pthread_self() -> libc::pthread_t {
    // SAFETY: always safe.
    unsafe { libc::pthread_self() }
}

fn kick(t: libc::pthread_t) {
    // SAFETY: `t` is a thread of this process that has not been joined yet.
    unsafe { libc::pthread_kill(t, libc::SIGUSR1) };
}

extern "C" fn on_sigusr1(_: libc::c_int) {}

/// A no-op SIGUSR1 handler without `SA_RESTART`: the signal interrupts a
/// blocked `EVENTLOOP`.
fn install_sigusr1() -> Result<(), String> {
    // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
    let r = unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGUSR1, &sa, ptr::null_mut())
    };
    if r == 0 {
        Ok(())
    } else {
        Err(errname(errno()))
    }
}

/// `EVENTLOOP` by the calling thread, interrupted with SIGUSR1 after `limit`.
fn eventloop_bounded(r: &mut TuxReq, limit: Duration) -> i64 {
    let me = pthread_self();
    let (tx, rx) = mpsc::channel::<()>();
    let alarm = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            kick(me);
        }
    });
    let ret = call(Action::EventLoop, r);
    drop(tx);
    let _ = alarm.join();
    ret
}

/// An address that was mapped and is not any more.
fn unmapped_addr() -> Option<u64> {
    // SAFETY: an anonymous private mapping, unmapped right away; only its address is kept.
    unsafe {
        let p = libc::mmap(
            ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return None;
        }
        libc::munmap(p, 4096);
        Some(p as u64)
    }
}

/// A block that starts 100 bytes before the end of a mapped page followed by an
/// unmapped one (the mapping is leaked on purpose).
fn straddling_block() -> Option<*mut u8> {
    // SAFETY: an anonymous private mapping of two pages whose second page is unmapped.
    unsafe {
        let p = libc::mmap(
            ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return None;
        }
        let base = p.cast::<u8>();
        libc::munmap(base.add(4096).cast(), 4096);
        let b = base.add(4096 - 100);
        ptr::write_bytes(b, 0, 100);
        // The version, so that only the missing bytes can be the reason for a failure.
        ptr::copy_nonoverlapping(TUX_VERSION.to_ne_bytes().as_ptr(), b, 4);
        Some(b)
    }
}

/// An 8-aligned byte buffer that holds a request block at any offset.
struct Block {
    words: Vec<u64>,
}

impl Block {
    fn new(bytes: usize) -> Self {
        Self {
            words: vec![0u64; bytes.div_ceil(8) + 1],
        }
    }

    fn at(&mut self, off: usize) -> *mut u8 {
        assert!(off + REQ_SIZE <= self.words.len() * 8);
        // SAFETY: in bounds (asserted above).
        unsafe { self.words.as_mut_ptr().cast::<u8>().add(off) }
    }

    fn put(&mut self, off: usize, r: &TuxReq) {
        let p = self.at(off);
        // SAFETY: `p` has room for a block (checked by `at`); unaligned is fine for bytes.
        unsafe { ptr::copy_nonoverlapping((r as *const TuxReq).cast::<u8>(), p, REQ_SIZE) };
    }

    fn get(&mut self, off: usize) -> TuxReq {
        let p = self.at(off);
        // SAFETY: in bounds; every bit pattern is a valid `TuxReq`.
        unsafe { ptr::read_unaligned(p.cast::<TuxReq>()) }
    }

    fn set_byte(&mut self, off: usize, v: u8) {
        let len = self.words.len() * 8;
        assert!(off < len);
        // SAFETY: in bounds (asserted above).
        unsafe { *self.words.as_mut_ptr().cast::<u8>().add(off) = v };
    }

    fn call(&mut self, a: Action, off: usize, size: usize) -> i64 {
        let p = self.at(off);
        sys(a as u32, p.cast(), size)
    }
}

// ---------------------------------------------------------------------------
// Files and /proc

fn docroot() -> String {
    std::fs::read_to_string("/proc/sys/net/tux/documentroot")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/srv/www".to_string())
}

fn stat(name: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/net/tux/stats").ok()?;
    s.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn clientport() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/tux/clientport")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

// ---------------------------------------------------------------------------
// HTTP client

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

struct Response {
    status: u16,
    /// Head and body, exactly as received.
    raw: Vec<u8>,
    body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Client {
    fn connect() -> Result<Self, String> {
        let s = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], 80)), IO_TIMEOUT)
            .map_err(|e| format!("connect 127.0.0.1:80: {e}"))?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| s.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| format!("socket timeouts: {e}"))?;
        Ok(Self { s, buf: Vec::new() })
    }

    fn send(&mut self, b: &[u8]) -> Result<(), String> {
        self.s.write_all(b).map_err(|e| format!("send: {e}"))
    }

    fn local_port(&self) -> u16 {
        self.s.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Reads once more into the buffer; 0 at EOF.
    fn fill(&mut self) -> Result<usize, String> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.s.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(format!(
                        "no data within {} s ({} bytes so far)",
                        IO_TIMEOUT.as_secs(),
                        self.buf.len()
                    ))
                }
                Err(e) => return Err(format!("recv: {e} ({} bytes so far)", self.buf.len())),
            }
        }
    }

    /// Reads one response: the head, then `Content-Length` bytes or up to EOF.
    fn response(&mut self) -> Result<Response, String> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.fill()? == 0 {
                return Err(format!(
                    "EOF before the end of the head ({:?})",
                    String::from_utf8_lossy(&self.buf)
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line in {head:?}"))?;
        let len = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        });
        let end = match len {
            Some(n) => {
                while self.buf.len() < head_end + n {
                    if self.fill()? == 0 {
                        return Err(format!("EOF in the body ({head:?})"));
                    }
                }
                head_end + n
            }
            None => {
                while self.fill()? != 0 {}
                self.buf.len()
            }
        };
        let raw: Vec<u8> = self.buf.drain(..end).collect();
        let body = raw[head_end..].to_vec();
        Ok(Response { status, raw, body })
    }

    /// Reads to EOF; returns what came after the bytes already consumed.
    fn read_to_eof(&mut self) -> Result<Vec<u8>, String> {
        while self.fill()? != 0 {}
        Ok(std::mem::take(&mut self.buf))
    }
}

/// Reads one response on another thread (so that a module's sends never wait for us).
fn read_async(mut c: Client) -> thread::JoinHandle<(Client, Result<Response, String>)> {
    thread::spawn(move || {
        let r = c.response();
        (c, r)
    })
}

fn join_response(
    name: &str,
    h: thread::JoinHandle<(Client, Result<Response, String>)>,
) -> Option<(Client, Response)> {
    match h.join() {
        Ok((c, Ok(r))) => Some((c, r)),
        Ok((_, Err(e))) => {
            fail(name, "a response", e);
            None
        }
        Err(_) => {
            fail(name, "a response", "client thread panicked");
            None
        }
    }
}

/// Connects and sends `request`.
fn client_with(request: &[u8]) -> Result<Client, String> {
    let mut c = Client::connect()?;
    c.send(request)?;
    Ok(c)
}

/// GET of a static file; checks the status and the body.
fn check_static(name: &str, c: &mut Client, file: &[u8]) -> bool {
    if let Err(e) = c.send(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") {
        fail(name, "request sent", e);
        return false;
    }
    match c.response() {
        Ok(r) => check(
            name,
            r.status == 200 && r.body == file,
            format!("200 with the {} bytes of index.html", file.len()),
            format!("{} with {} bytes", r.status, r.body.len()),
        ),
        Err(e) => {
            fail(name, "200", e);
            false
        }
    }
}

// ---------------------------------------------------------------------------
// Forked children: raw system calls only (the parent has threads)

/// How the unprivileged child calls an action.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// NULL block.
    Null,
    /// A block without an id.
    Plain,
    /// A block naming an id that does not exist.
    Random,
    /// A block naming the request the parent holds.
    Parents,
}

const ADMIN: [Action; 7] = [
    Action::Startup,
    Action::Shutdown,
    Action::RegisterModule,
    Action::StartThread,
    Action::StopThread,
    Action::UnregisterModule,
    Action::RegisterMimetype,
];

const PER_REQUEST: [Action; 13] = [
    Action::GetObject,
    Action::SendObject,
    Action::ReadObject,
    Action::FinishReq,
    Action::FinishCloseReq,
    Action::ReadHeaders,
    Action::PostponeReq,
    Action::ContinueReq,
    Action::RedirectReq,
    Action::ReadPostData,
    Action::SendBuffer,
    Action::WatchProxySocket,
    Action::WaitProxySocket,
];

/// The unprivileged child's calls, in order (the same in the child and the parent).
fn unpriv_plan(mut f: impl FnMut(Action, Mode)) {
    f(Action::Startup, Mode::Null);
    f(Action::Shutdown, Mode::Null);
    for a in ADMIN {
        f(a, Mode::Plain);
    }
    f(Action::QueryVersion, Mode::Null);
    f(Action::CurrentDate, Mode::Plain);
    f(Action::EventLoop, Mode::Plain);
    for a in PER_REQUEST {
        f(a, Mode::Random);
    }
    for a in PER_REQUEST {
        f(a, Mode::Parents);
    }
}

const UNPRIV_MAX: usize = 64;
const NOBODY: libc::c_long = 65534;

/// The unprivileged child: drops to nobody, makes the calls, writes the results.
fn unpriv_child(fd: libc::c_int, held: u64) -> ! {
    let mut out = [i64::MIN; UNPRIV_MAX + 1];
    // SAFETY: raw system calls on the only thread of the child.
    let dropped = unsafe {
        libc::syscall(
            libc::SYS_setgroups,
            0 as libc::c_long,
            ptr::null::<libc::gid_t>(),
        ) == 0
            && libc::syscall(libc::SYS_setresgid, NOBODY, NOBODY, NOBODY) == 0
            && libc::syscall(libc::SYS_setresuid, NOBODY, NOBODY, NOBODY) == 0
    };
    out[0] = if dropped { 0 } else { neg(errno()) };
    if dropped {
        let mut i = 1;
        unpriv_plan(|a, mode| {
            let mut buf = [0u8; 64];
            let mut r = TuxReq {
                id: match mode {
                    Mode::Random => RANDOM_ID,
                    Mode::Parents => held,
                    _ => 0,
                },
                proxy_fd: -1,
                // Module-owned state that must not reach another process's request.
                event: 99,
                private: 0xbad,
                ..req()
            };
            set_buf(&mut r, &mut buf);
            let (name, value): (&[u8], &[u8]) = match a {
                Action::RegisterModule => (b"/unpriv", b""),
                Action::UnregisterModule => (b"/tc", b""),
                Action::RegisterMimetype => (b"tcx", b"text/x-unpriv"),
                _ => (b"/index.html", b""),
            };
            r.name = name.as_ptr() as u64;
            r.name_len = name.len() as u64;
            r.value = value.as_ptr() as u64;
            r.value_len = value.len() as u64;
            let ret = if mode == Mode::Null {
                call_null(a)
            } else {
                call(a, &mut r)
            };
            if let Some(slot) = out.get_mut(i) {
                *slot = ret;
            }
            i += 1;
        });
    }
    let mut bytes = [0u8; (UNPRIV_MAX + 1) * 8];
    for (chunk, v) in bytes.chunks_exact_mut(8).zip(out.iter()) {
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    // SAFETY: writing an owned buffer to our pipe, then leaving without running
    // anything of the parent's (atexit handlers, destructors).
    unsafe {
        libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::_exit(0)
    }
}

fn pipe() -> Result<(libc::c_int, libc::c_int), String> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", errname(errno())));
    }
    Ok((fds[0], fds[1]))
}

fn close(fd: libc::c_int) {
    // SAFETY: `fd` is a descriptor this program opened and closes once.
    unsafe { libc::close(fd) };
}

/// Reads up to `buf.len()` bytes from `fd`, waiting at most `limit` in all.
fn read_fd(fd: libc::c_int, buf: &mut [u8], limit: Duration) -> usize {
    let end = Instant::now() + limit;
    let mut got = 0;
    while got < buf.len() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms.max(1)) };
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        if r <= 0 {
            break;
        }
        let rest = &mut buf[got..];
        // SAFETY: `rest` is writable for its length.
        let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    got
}

/// Waits for child `pid` for at most `limit`, then kills it. Returns the wait status.
fn reap(pid: libc::pid_t, limit: Duration) -> Option<libc::c_int> {
    let end = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if r < 0 && errno() != libc::EINTR {
            return None;
        }
        if Instant::now() >= end {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn fork() -> Result<libc::pid_t, String> {
    // SAFETY: the children call only async-signal-safe functions (raw system calls,
    // write, _exit) and never return into the parent's code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(format!("fork: {}", errname(errno())))
    } else {
        Ok(pid)
    }
}

/// Runs the unprivileged child against the request `held` held by this process;
/// `label` prefixes the names of its checks.
fn test_unprivileged(label: &str, held: u64) {
    let (rfd, wfd) = match pipe() {
        Ok(p) => p,
        Err(e) => return fail(&format!("{label} child"), "a pipe", e),
    };
    let pid = match fork() {
        Ok(0) => {
            close(rfd);
            unpriv_child(wfd, held)
        }
        Ok(pid) => pid,
        Err(e) => {
            close(rfd);
            close(wfd);
            return fail(&format!("{label} child"), "fork", e);
        }
    };
    close(wfd);
    let mut bytes = [0u8; (UNPRIV_MAX + 1) * 8];
    let n = read_fd(rfd, &mut bytes, Duration::from_secs(10));
    close(rfd);
    let status = reap(pid, Duration::from_secs(5));
    let clean = status.is_some_and(|s| libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0);
    check(
        &format!("{label} child: ran and exited 0"),
        n == bytes.len() && clean,
        format!("{} bytes and exit 0", bytes.len()),
        format!("{n} bytes, status {status:?}"),
    );
    if n != bytes.len() {
        return;
    }
    let res: Vec<i64> = bytes
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    if !expect(
        &format!("{label} child: setgroups/setresgid/setresuid(65534)"),
        res[0],
        0,
    ) {
        return;
    }
    let mut i = 1;
    unpriv_plan(|a, mode| {
        let got = res.get(i).copied().unwrap_or(i64::MIN);
        i += 1;
        let what = match mode {
            Mode::Null => "NULL",
            Mode::Plain => "block",
            Mode::Random => "unknown id",
            Mode::Parents => "id held by another process",
        };
        let name = format!("{label}: {a:?} ({what})");
        let proxy = matches!(a, Action::WatchProxySocket | Action::WaitProxySocket);
        if a.is_admin() {
            expect_err(&name, got, libc::EPERM);
        } else if a == Action::QueryVersion {
            expect(&name, got, i64::from(TUX_VERSION));
        } else if a == Action::CurrentDate {
            expect(&name, got, TUX_DATE_LEN as i64);
        } else if a == Action::EventLoop {
            expect_err(&name, got, libc::EINVAL);
        } else if proxy {
            expect_any(&name, got, &[neg(libc::ENOENT), neg(libc::EOPNOTSUPP)]);
        } else {
            expect_err(&name, got, libc::ENOENT);
        }
    });
}

// ---------------------------------------------------------------------------
// The checks

fn test_version() {
    expect(
        "QUERY_VERSION (NULL, 0) -> TUX_VERSION",
        call_null(Action::QueryVersion),
        i64::from(TUX_VERSION),
    );
    let mut r = req();
    expect(
        "QUERY_VERSION (block) -> TUX_VERSION",
        call(Action::QueryVersion, &mut r),
        i64::from(TUX_VERSION),
    );
    let mut r = TuxReq {
        version: pack_version(TUX_VERSION_MAJOR + 1, 0, 0),
        ..req()
    };
    expect(
        "QUERY_VERSION with another major in the block still answers",
        call(Action::QueryVersion, &mut r),
        i64::from(TUX_VERSION),
    );
    expect(
        "QUERY_VERSION with a garbage pointer and size (ignored)",
        sys(
            Action::QueryVersion as u32,
            KERNEL_ADDR as *mut c_void,
            5000,
        ),
        i64::from(TUX_VERSION),
    );
}

fn test_bad_actions() {
    for a in [0u32, 24, 100, 0x8000_0017, u32::MAX] {
        let mut r = req();
        expect_err(
            &format!("action {a:#x} -> EINVAL"),
            sys(a, (&mut r as *mut TuxReq).cast(), REQ_SIZE),
            libc::EINVAL,
        );
        expect_err(
            &format!("action {a:#x} with NULL -> EINVAL"),
            sys(a, ptr::null_mut(), 0),
            libc::EINVAL,
        );
    }
}

fn test_sizes() {
    let name = b"/tc-size";
    let mut b = Block::new(8192);
    b.put(0, &req_name(name));
    for size in [0usize, 1, 100, TUX_REQ_SIZE_VER0 - 1] {
        expect_err(
            &format!("REGISTER_MODULE size {size} -> EINVAL"),
            b.call(Action::RegisterModule, 0, size),
            libc::EINVAL,
        );
    }
    for size in [TUX_REQ_SIZE_MAX + 1, 5000, usize::MAX] {
        expect_err(
            &format!("REGISTER_MODULE size {size} -> E2BIG"),
            b.call(Action::RegisterModule, 0, size),
            libc::E2BIG,
        );
    }
    // Zero tails are accepted.
    for size in [200usize, TUX_REQ_SIZE_MAX] {
        let r = b.call(Action::RegisterModule, 0, size);
        if expect_nonneg(
            &format!("REGISTER_MODULE size {size}, zero tail -> index"),
            r,
        ) {
            expect(
                &format!("UNREGISTER_MODULE size {size}, zero tail -> 0"),
                b.call(Action::UnregisterModule, 0, size),
                0,
            );
        }
    }
    // A nonzero byte the kernel does not know.
    for (size, at) in [
        (200usize, 199usize),
        (200, REQ_SIZE),
        (177, REQ_SIZE),
        (4096, 4095),
    ] {
        b.set_byte(at, 0x5a);
        expect_err(
            &format!("REGISTER_MODULE size {size}, byte {at} nonzero -> E2BIG"),
            b.call(Action::RegisterModule, 0, size),
            libc::E2BIG,
        );
        b.set_byte(at, 0);
    }
    // A nonzero tail beyond `size` is not read.
    b.set_byte(300, 0x5a);
    let r = b.call(Action::RegisterModule, 0, 200);
    if expect_nonneg(
        "REGISTER_MODULE size 200, nonzero byte past size -> index",
        r,
    ) {
        expect("UNREGISTER_MODULE /tc-size", unregister(name), 0);
    }
    b.set_byte(300, 0);

    // STARTTHREAD/STOPTHREAD with a zero tail, on a thread of their own.
    let h = thread::spawn(|| {
        let mut b = Block::new(256);
        b.put(0, &req_nr(10));
        let start = b.call(Action::StartThread, 0, 200);
        let stop = b.call(Action::StopThread, 0, 200);
        let lp = if start == 0 {
            call(Action::EventLoop, &mut req())
        } else {
            i64::MIN
        };
        (start, stop, lp)
    });
    match h.join() {
        Ok((start, stop, lp)) => {
            expect("STARTTHREAD size 200, zero tail -> 0", start, 0);
            expect("STOPTHREAD size 200, zero tail -> 0", stop, 0);
            if start == 0 {
                expect(
                    "EVENTLOOP after own STOPTHREAD -> EXIT",
                    lp,
                    TUX_RETURN_EXIT,
                );
            }
        }
        Err(_) => fail("STARTTHREAD size 200", "thread result", "panicked"),
    }
}

fn test_pointers() {
    let unmapped = unmapped_addr();
    let straddle = straddling_block();
    let bad: [(&str, Option<u64>); 3] = [
        ("NULL", Some(0)),
        ("unmapped", unmapped),
        ("kernel address", Some(KERNEL_ADDR)),
    ];
    for a in Action::ALL {
        if a.needs_no_req() {
            continue;
        }
        for (what, addr) in bad {
            let Some(addr) = addr else {
                fail(
                    &format!("{a:?} with {what} block"),
                    "an address",
                    "mmap failed",
                );
                continue;
            };
            expect_err(
                &format!("{a:?} with {what} block -> EFAULT"),
                sys(a as u32, addr as *mut c_void, REQ_SIZE),
                libc::EFAULT,
            );
        }
    }
    match straddle {
        Some(p) => {
            expect_err(
                "REGISTER_MODULE with a block running into an unmapped page -> EFAULT",
                sys(Action::RegisterModule as u32, p.cast(), REQ_SIZE),
                libc::EFAULT,
            );
        }
        None => fail("straddling block", "mmap", "failed"),
    }

    // No alignment requirement on the block.
    let name = b"/tc-misaligned";
    let mut b = Block::new(512);
    b.put(1, &req_name(name));
    let r = b.call(Action::RegisterModule, 1, REQ_SIZE);
    if expect_nonneg(
        "REGISTER_MODULE with a misaligned block (offset 1) -> index",
        r,
    ) {
        expect(
            "UNREGISTER_MODULE with a misaligned block (offset 3) -> 0",
            {
                b.put(3, &req_name(name));
                b.call(Action::UnregisterModule, 3, REQ_SIZE)
            },
            0,
        );
    }

    // Pointers inside the block.
    if let Some(u) = unmapped {
        let mut r = req();
        r.name = u;
        r.name_len = 4;
        expect_err(
            "REGISTER_MODULE with an unmapped name -> EFAULT",
            call(Action::RegisterModule, &mut r),
            libc::EFAULT,
        );
        let mut r = req();
        r.buf = u;
        r.buf_len = 64;
        expect_err(
            "CURRENT_DATE with an unmapped buf -> EFAULT",
            call(Action::CurrentDate, &mut r),
            libc::EFAULT,
        );
    }
    let mut r = req();
    r.name = KERNEL_ADDR;
    r.name_len = 4;
    expect_err(
        "REGISTER_MODULE with a kernel-address name -> EFAULT",
        call(Action::RegisterModule, &mut r),
        libc::EFAULT,
    );
    let mut r = req();
    r.buf = KERNEL_ADDR;
    r.buf_len = 64;
    expect_err(
        "CURRENT_DATE with a kernel-address buf -> EFAULT",
        call(Action::CurrentDate, &mut r),
        libc::EFAULT,
    );
}

fn test_versions() {
    let name = b"/tc-version";
    for (what, v) in [
        ("major + 1", pack_version(TUX_VERSION_MAJOR + 1, 0, 0)),
        (
            "major - 1",
            pack_version(TUX_VERSION_MAJOR - 1, TUX_VERSION_MINOR, 0),
        ),
        (
            "newer minor",
            pack_version(TUX_VERSION_MAJOR, TUX_VERSION_MINOR + 1, 0),
        ),
        ("0", 0),
    ] {
        let mut r = TuxReq {
            version: v,
            ..req_name(name)
        };
        expect_err(
            &format!("REGISTER_MODULE with version {what} ({v:#x}) -> EPROTO"),
            call(Action::RegisterModule, &mut r),
            libc::EPROTO,
        );
    }
    let mut r = TuxReq {
        version: pack_version(TUX_VERSION_MAJOR + 1, 0, 0),
        ..req_id(RANDOM_ID)
    };
    expect_err(
        "FINISH_REQ (unknown id) with another major -> EPROTO before ENOENT",
        call(Action::FinishReq, &mut r),
        libc::EPROTO,
    );
    let mut r = TuxReq {
        version: pack_version(TUX_VERSION_MAJOR, TUX_VERSION_MINOR, 77),
        ..req_name(name)
    };
    if expect_nonneg(
        "REGISTER_MODULE with another patch level -> index",
        call(Action::RegisterModule, &mut r),
    ) {
        expect("UNREGISTER_MODULE /tc-version", unregister(name), 0);
    }
}

/// Registers "/tc"; returns its index.
fn test_register() -> Option<u32> {
    let idx = register(b"/tc");
    if !expect_nonneg("REGISTER_MODULE /tc -> index", idx) {
        return None;
    }
    expect_err(
        "REGISTER_MODULE /tc again -> EEXIST",
        register(b"/tc"),
        libc::EEXIST,
    );
    for bad in [
        &b".tc"[..],
        b"t c",
        b"/",
        b"//",
        b"/a/../b",
        b"/a/./b",
        b"/..",
        b"/x/",
        b"/a//b",
        b"/a b",
        b"/a%2e",
        b"/a?b",
    ] {
        expect_err(
            &format!(
                "REGISTER_MODULE {:?} -> EINVAL",
                String::from_utf8_lossy(bad)
            ),
            register(bad),
            libc::EINVAL,
        );
    }
    let mut r = req_name(b"/tc");
    r.name_len = 0;
    expect_err(
        "REGISTER_MODULE \"\" (name_len 0) -> EINVAL",
        call(Action::RegisterModule, &mut r),
        libc::EINVAL,
    );
    let mut long = vec![b'a'; 300];
    long[0] = b'/';
    expect_err(
        "REGISTER_MODULE name_len 256 -> EINVAL",
        register(&long[..256]),
        libc::EINVAL,
    );
    let mut r = req_name(&long);
    r.name_len = u64::MAX;
    expect_err(
        "REGISTER_MODULE name_len u64::MAX -> EINVAL",
        call(Action::RegisterModule, &mut r),
        libc::EINVAL,
    );
    if expect_nonneg(
        "REGISTER_MODULE name_len 255 -> index",
        register(&long[..255]),
    ) {
        expect(
            "UNREGISTER_MODULE name_len 255 -> 0",
            unregister(&long[..255]),
            0,
        );
    }
    expect_err(
        "UNREGISTER_MODULE unknown /tc-nope -> ENOENT",
        unregister(b"/tc-nope"),
        libc::ENOENT,
    );
    expect_err(
        "UNREGISTER_MODULE invalid prefix .tc -> EINVAL",
        unregister(b".tc"),
        libc::EINVAL,
    );

    // The table holds 16 modules.
    let names: Vec<String> = (0..20).map(|i| format!("/tcfill-{i}")).collect();
    let mut taken = Vec::new();
    let mut last = 0;
    for n in &names {
        last = register(n.as_bytes());
        if last < 0 {
            break;
        }
        taken.push(n);
    }
    check(
        "REGISTER_MODULE beyond 16 modules -> ENOSPC",
        last == neg(libc::ENOSPC) && !taken.is_empty() && taken.len() < 16,
        "ENOSPC after at most 15 more",
        format!("{} after {} more", fmt_ret(last), taken.len()),
    );
    let mut all = true;
    for n in &taken {
        all &= unregister(n.as_bytes()) == 0;
    }
    check(
        "UNREGISTER_MODULE the filler modules -> 0",
        all,
        "0 each",
        "a failure",
    );
    u32::try_from(idx).ok()
}

fn test_threads() {
    expect_err(
        "EVENTLOOP on a thread that did not STARTTHREAD -> EINVAL",
        call(Action::EventLoop, &mut req()),
        libc::EINVAL,
    );
    expect_err(
        "STARTTHREAD nr 64 -> ERANGE",
        call(Action::StartThread, &mut req_nr(TUX_MAX_THREADS)),
        libc::ERANGE,
    );
    expect_err(
        "STARTTHREAD nr 0xffffffff -> ERANGE",
        call(Action::StartThread, &mut req_nr(u32::MAX)),
        libc::ERANGE,
    );
    expect(
        "STARTTHREAD nr 0 -> 0",
        call(Action::StartThread, &mut req_nr(0)),
        0,
    );
    expect_err(
        "STARTTHREAD nr 0 again, same thread -> EBUSY",
        call(Action::StartThread, &mut req_nr(0)),
        libc::EBUSY,
    );
    expect_err(
        "STARTTHREAD nr 3 on a thread that is module thread 0 -> EBUSY",
        call(Action::StartThread, &mut req_nr(3)),
        libc::EBUSY,
    );
    let other = thread::spawn(|| call(Action::StartThread, &mut req_nr(0))).join();
    expect_err(
        "STARTTHREAD nr 0 from another thread of the process -> EBUSY",
        other.unwrap_or(i64::MIN),
        libc::EBUSY,
    );
    expect_err(
        "STOPTHREAD unknown nr 63 -> ESRCH",
        call(Action::StopThread, &mut req_nr(63)),
        libc::ESRCH,
    );
    expect_any(
        "STOPTHREAD nr 64 -> ESRCH or ERANGE",
        call(Action::StopThread, &mut req_nr(TUX_MAX_THREADS)),
        &[neg(libc::ESRCH), neg(libc::ERANGE)],
    );
}

/// A module thread on a thread of its own, blocked in `EVENTLOOP`.
struct Looper {
    t: libc::pthread_t,
    first: mpsc::Receiver<i64>,
    h: thread::JoinHandle<i64>,
}

/// Starts module thread `nr` on a new thread, which calls `EVENTLOOP` (its result
/// goes to `Looper::first`) and then `EVENTLOOP` again (the thread's result),
/// retrying a few times if a stray SIGUSR1 interrupts the second one.
fn spawn_looper(nr: u32) -> Result<Looper, String> {
    let (stx, srx) = mpsc::channel();
    let (ftx, frx) = mpsc::channel();
    let h = thread::spawn(move || {
        let s = call(Action::StartThread, &mut req_nr(nr));
        let _ = stx.send((s, pthread_self()));
        if s != 0 {
            return i64::MIN;
        }
        let _ = ftx.send(call(Action::EventLoop, &mut req()));
        let mut second = TUX_RETURN_SIGNAL;
        for _ in 0..5 {
            second = call(Action::EventLoop, &mut req());
            if second != TUX_RETURN_SIGNAL {
                break;
            }
        }
        second
    });
    match srx.recv_timeout(LOOP_TIMEOUT) {
        Ok((0, t)) => Ok(Looper { t, first: frx, h }),
        Ok((s, _)) => {
            let _ = h.join();
            Err(fmt_ret(s))
        }
        Err(_) => Err("no answer".to_string()),
    }
}

impl Looper {
    /// The first `EVENTLOOP`'s result, waiting at most `limit`; with `kicking`, sends
    /// SIGUSR1 every 200 ms meanwhile (the first may land before the call blocks).
    fn first(&self, limit: Duration, kicking: bool) -> Option<i64> {
        let end = Instant::now() + limit;
        loop {
            match self.first.recv_timeout(Duration::from_millis(200)) {
                Ok(v) => return Some(v),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < end => {
                    if kicking {
                        kick(self.t);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Joins the thread, which must end by itself within `grace` (kicked after that,
    /// for at most 5 s more). Returns its second `EVENTLOOP`'s result.
    fn join(self, grace: Duration) -> Option<i64> {
        wait_kicking(self.h, self.t, grace)
    }
}

/// Waits for `h`, kicking `t` with SIGUSR1 every 200 ms after `grace` (for at most 5 s).
fn wait_kicking<T>(h: thread::JoinHandle<T>, t: libc::pthread_t, grace: Duration) -> Option<T> {
    let kick_from = Instant::now() + grace;
    let end = kick_from + Duration::from_secs(5);
    let mut in_time = true;
    while !h.is_finished() && Instant::now() < end {
        thread::sleep(Duration::from_millis(50));
        if Instant::now() >= kick_from && !h.is_finished() {
            in_time = false;
            kick(t);
            thread::sleep(Duration::from_millis(150));
        }
    }
    if h.is_finished() {
        h.join().ok().filter(|_| in_time)
    } else {
        None
    }
}

fn test_eventloop_wakeups() {
    // A signal ends a blocked EVENTLOOP with SIGNAL.
    match spawn_looper(1) {
        Ok(l) => {
            thread::sleep(Duration::from_millis(200));
            kick(l.t);
            let first = l.first(LOOP_TIMEOUT, true);
            match first {
                Some(v) => {
                    expect(
                        "EVENTLOOP interrupted by SIGUSR1 -> SIGNAL",
                        v,
                        TUX_RETURN_SIGNAL,
                    );
                }
                None => fail(
                    "EVENTLOOP interrupted by SIGUSR1",
                    "SIGNAL",
                    "did not return",
                ),
            }
            expect(
                "STOPTHREAD nr 1 (after SIGNAL, still a module thread) -> 0",
                call(Action::StopThread, &mut req_nr(1)),
                0,
            );
            match l.join(Duration::from_secs(3)) {
                Some(v) => {
                    if first.is_some() {
                        expect(
                            "EVENTLOOP after SIGNAL, then STOPTHREAD -> EXIT",
                            v,
                            TUX_RETURN_EXIT,
                        );
                    }
                }
                None => fail("EVENTLOOP after STOPTHREAD nr 1", "EXIT", "did not return"),
            }
        }
        Err(e) => fail("STARTTHREAD nr 1 (signal test)", "0", e),
    }

    // STOPTHREAD from another thread ends a blocked EVENTLOOP with EXIT.
    match spawn_looper(2) {
        Ok(l) => {
            thread::sleep(Duration::from_millis(200));
            expect(
                "STOPTHREAD nr 2 from another thread -> 0",
                call(Action::StopThread, &mut req_nr(2)),
                0,
            );
            match l.first(LOOP_TIMEOUT, false) {
                Some(v) => {
                    expect(
                        "blocked EVENTLOOP after STOPTHREAD -> EXIT",
                        v,
                        TUX_RETURN_EXIT,
                    );
                }
                None => fail(
                    "blocked EVENTLOOP after STOPTHREAD",
                    "EXIT",
                    "did not return",
                ),
            }
            match l.join(Duration::from_secs(3)) {
                Some(v) => {
                    expect_err(
                        "EVENTLOOP after EXIT (no module thread any more) -> EINVAL",
                        v,
                        libc::EINVAL,
                    );
                }
                None => fail("EVENTLOOP after EXIT", "EINVAL", "did not return"),
            }
        }
        Err(e) => fail("STARTTHREAD nr 2 (stop test)", "0", e),
    }
}

fn test_current_date() {
    let mut buf = [0u8; 64];
    let mut r = req();
    set_buf(&mut r, &mut buf[..10]);
    expect_err(
        "CURRENT_DATE buf_len 10 -> ENOSPC",
        call(Action::CurrentDate, &mut r),
        libc::ENOSPC,
    );
    set_buf(&mut r, &mut buf[..29]);
    let n = call(Action::CurrentDate, &mut r);
    if expect("CURRENT_DATE buf_len 29 -> 29", n, 29) {
        let d = String::from_utf8_lossy(&buf[..29]).into_owned();
        check(
            "CURRENT_DATE is an IMF-fixdate",
            d.ends_with(" GMT") && d.as_bytes()[3] == b',' && buf[29] == 0,
            "\"Www, DD Mon YYYY HH:MM:SS GMT\"",
            format!("{d:?}"),
        );
    }
}

/// The main request: everything a module does with a request, and keep-alive after it.
fn test_request_cycle(module: Option<u32>, file: &[u8]) {
    let head =
        b"POST /tc/x?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nCookie: a=b\r\n\r\n";
    let mut request = head.to_vec();
    request.extend_from_slice(b"hello");
    let requests_before = stat("module_requests");
    let c = match client_with(&request) {
        Ok(c) => c,
        Err(e) => return fail("request cycle: client", "connected", e),
    };
    let port = c.local_port();
    let mut r = req();
    let ret = eventloop_bounded(&mut r, LOOP_TIMEOUT);
    if !expect(
        "EVENTLOOP with a POST to /tc queued -> 0",
        ret,
        TUX_RETURN_USERSPACE_REQUEST,
    ) {
        return;
    }
    let id = r.id;
    check("EVENTLOOP: id != 0", id != 0, "nonzero", id);
    check(
        "EVENTLOOP: http_method POST",
        r.http_method == method::POST,
        method::POST,
        r.http_method,
    );
    check(
        "EVENTLOOP: http_version 11",
        r.http_version == http_version::HTTP_1_1,
        http_version::HTTP_1_1,
        r.http_version,
    );
    check(
        "EVENTLOOP: headers_len is the head's length",
        r.headers_len == head.len() as u64,
        head.len(),
        r.headers_len,
    );
    check("EVENTLOOP: body_len 5", r.body_len == 5, 5, r.body_len);
    check(
        "EVENTLOOP: client_family AF_INET",
        r.client_family == libc::AF_INET as u32,
        libc::AF_INET,
        r.client_family,
    );
    check(
        "EVENTLOOP: client_addr 127.0.0.1",
        r.client_addr[..4] == [127, 0, 0, 1] && r.client_addr[4..].iter().all(|&b| b == 0),
        "127.0.0.1",
        format!("{:?}", r.client_addr),
    );
    check(
        "EVENTLOOP: client_port is the client's port",
        r.client_port == u32::from(port),
        port,
        r.client_port,
    );
    check(
        "EVENTLOOP: keep_alive 1",
        r.keep_alive == 1,
        1,
        r.keep_alive,
    );
    if let Some(m) = module {
        check(
            "EVENTLOOP: module_index is /tc's",
            r.module_index == m,
            m,
            r.module_index,
        );
    }
    if let (Some(b), Some(a)) = (requests_before, stat("module_requests")) {
        check("stats: module_requests counted", a > b, format!("> {b}"), a);
    }

    // Another process, unprivileged, cannot touch this request.
    test_unprivileged("unprivileged", id);

    // READ_HEADERS.
    let mut hb = vec![0u8; 1024];
    let mut q = req_id(id);
    set_buf(&mut q, &mut hb[..head.len() - 1]);
    expect_err(
        "READ_HEADERS buf one byte short -> ENOSPC",
        call(Action::ReadHeaders, &mut q),
        libc::ENOSPC,
    );
    check(
        "READ_HEADERS failure sets error ENOSPC",
        q.error == libc::ENOSPC as u32,
        libc::ENOSPC,
        q.error,
    );
    if let Some(u) = unmapped_addr() {
        let mut q = req_id(id);
        q.buf = u;
        q.buf_len = 1024;
        expect_err(
            "READ_HEADERS unmapped buf -> EFAULT",
            call(Action::ReadHeaders, &mut q),
            libc::EFAULT,
        );
        check(
            "READ_HEADERS failure sets error EFAULT",
            q.error == libc::EFAULT as u32,
            libc::EFAULT,
            q.error,
        );
    }
    let mut q = req_id(id);
    q.buf = KERNEL_ADDR;
    q.buf_len = 1024;
    expect_err(
        "READ_HEADERS kernel-address buf -> EFAULT",
        call(Action::ReadHeaders, &mut q),
        libc::EFAULT,
    );
    let mut q = req_id(id);
    set_buf(&mut q, &mut hb[..head.len()]);
    let n = call(Action::ReadHeaders, &mut q);
    if expect(
        "READ_HEADERS exact size -> headers_len",
        n,
        head.len() as i64,
    ) {
        check(
            "READ_HEADERS: the exact head bytes",
            &hb[..head.len()] == head,
            format!("{:?}", String::from_utf8_lossy(head)),
            format!("{:?}", String::from_utf8_lossy(&hb[..head.len()])),
        );
    }

    // READ_POST_DATA: "hello", then 0.
    let mut body = Vec::new();
    let mut last = 1;
    for _ in 0..10 {
        let mut chunk = [0u8; 64];
        let mut q = req_id(id);
        set_buf(&mut q, &mut chunk);
        last = call(Action::ReadPostData, &mut q);
        if last <= 0 {
            break;
        }
        body.extend_from_slice(&chunk[..last as usize]);
    }
    check(
        "READ_POST_DATA -> \"hello\" then 0",
        body == b"hello" && last == 0,
        "\"hello\" then 0",
        format!(
            "{:?} then {}",
            String::from_utf8_lossy(&body),
            fmt_ret(last)
        ),
    );

    // Objects.
    for (bad, wants) in [
        (
            &b"/../etc/passwd"[..],
            &[neg(libc::ENOENT), neg(libc::EACCES)][..],
        ),
        (b"/nonexistent", &[neg(libc::ENOENT)]),
    ] {
        let mut q = TuxReq {
            id,
            ..req_name(bad)
        };
        expect_any(
            &format!("GET_OBJECT {:?}", String::from_utf8_lossy(bad)),
            call(Action::GetObject, &mut q),
            wants,
        );
    }
    let big = vec![b'a'; 5000];
    let mut q = TuxReq {
        id,
        ..req_name(&big)
    };
    expect_err(
        "GET_OBJECT name_len 5000 -> ENAMETOOLONG",
        call(Action::GetObject, &mut q),
        libc::ENAMETOOLONG,
    );
    let mut q = TuxReq {
        id,
        ..req_name(b"/index.html")
    };
    q.name = KERNEL_ADDR;
    expect_err(
        "GET_OBJECT kernel-address name -> EFAULT",
        call(Action::GetObject, &mut q),
        libc::EFAULT,
    );
    // A misaligned block for an action that writes the block back.
    let mut b = Block::new(512);
    let idx_name = b"/index.html";
    b.put(
        5,
        &TuxReq {
            id,
            ..req_name(idx_name)
        },
    );
    let ret = b.call(Action::GetObject, 5, REQ_SIZE);
    let got = b.get(5);
    if expect("GET_OBJECT /index.html (misaligned block) -> 0", ret, 0) {
        check(
            "GET_OBJECT: object_len is the file's size",
            got.object_len == file.len() as u64,
            file.len(),
            got.object_len,
        );
        check(
            "GET_OBJECT: object_mtime set",
            got.object_mtime > 0,
            "> 0",
            got.object_mtime,
        );
    }
    let mut first = [0u8; 16];
    let mut q = req_id(id);
    set_buf(&mut q, &mut first);
    let n = call(Action::ReadObject, &mut q);
    let want = file.len().min(16);
    if expect("READ_OBJECT offset 0, 16 bytes", n, want as i64) {
        check(
            "READ_OBJECT: the file's first bytes",
            first[..want] == file[..want],
            format!("{:?}", String::from_utf8_lossy(&file[..want])),
            format!("{:?}", String::from_utf8_lossy(&first[..want])),
        );
    }
    let mut q = req_id(id);
    set_buf(&mut q, &mut first);
    q.offset = file.len() as u64;
    expect(
        "READ_OBJECT at the end -> 0",
        call(Action::ReadObject, &mut q),
        0,
    );
    let mut q = req_id(id);
    q.buf = KERNEL_ADDR;
    q.buf_len = 16;
    expect_err(
        "READ_OBJECT kernel-address buf -> EFAULT",
        call(Action::ReadObject, &mut q),
        libc::EFAULT,
    );

    // SEND_BUFFER with bad buffers sends nothing and keeps the request.
    if let Some(u) = unmapped_addr() {
        let mut q = req_id(id);
        q.buf = u;
        q.buf_len = 10;
        expect_err(
            "SEND_BUFFER unmapped buf -> EFAULT",
            call(Action::SendBuffer, &mut q),
            libc::EFAULT,
        );
    }
    let mut q = req_id(id);
    q.buf = KERNEL_ADDR;
    q.buf_len = 10;
    expect_err(
        "SEND_BUFFER kernel-address buf -> EFAULT",
        call(Action::SendBuffer, &mut q),
        libc::EFAULT,
    );

    // The answer: a head, then the file.
    let reader = read_async(c);
    let resp_head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", file.len());
    let mut q = req_id(id);
    set_cbuf(&mut q, resp_head.as_bytes());
    expect(
        "SEND_BUFFER the response head -> its length",
        call(Action::SendBuffer, &mut q),
        resp_head.len() as i64,
    );
    check(
        "SEND_BUFFER: bytes_sent updated",
        q.bytes_sent == resp_head.len() as u64,
        resp_head.len(),
        q.bytes_sent,
    );
    let mut q = req_id(id);
    expect(
        "SEND_OBJECT offset 0, buf_len 0 -> the file's size",
        call(Action::SendObject, &mut q),
        file.len() as i64,
    );
    let mut q = TuxReq {
        http_status: 200,
        ..req_id(id)
    };
    expect("FINISH_REQ 200 -> 0", call(Action::FinishReq, &mut q), 0);
    let mut q = TuxReq {
        http_status: 200,
        ..req_id(id)
    };
    expect_err(
        "FINISH_REQ again -> ENOENT",
        call(Action::FinishReq, &mut q),
        libc::ENOENT,
    );
    let mut q = req_id(id);
    expect_err(
        "READ_HEADERS after FINISH_REQ -> ENOENT",
        call(Action::ReadHeaders, &mut q),
        libc::ENOENT,
    );
    let Some((mut c, resp)) = join_response("request cycle: the module's response", reader) else {
        return;
    };
    let mut want = resp_head.into_bytes();
    want.extend_from_slice(file);
    check(
        "client gets exactly the module's response",
        resp.raw == want,
        format!("{} bytes", want.len()),
        format!("{} bytes, status {}", resp.raw.len(), resp.status),
    );
    check_static(
        "keep-alive: GET /index.html next on the same connection -> 200",
        &mut c,
        file,
    );
}

/// POSTPONE_REQ / CONTINUE_REQ, the proxy actions and FINISH_CLOSE_REQ.
fn test_postpone() {
    let c = match client_with(b"GET /tc/postpone HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") {
        Ok(c) => c,
        Err(e) => return fail("postpone: client", "connected", e),
    };
    let mut r = req();
    if !expect(
        "EVENTLOOP (postpone request) -> 0",
        eventloop_bounded(&mut r, LOOP_TIMEOUT),
        0,
    ) {
        return;
    }
    let id = r.id;
    check(
        "EVENTLOOP: http_method GET",
        r.http_method == method::GET,
        method::GET,
        r.http_method,
    );
    check("EVENTLOOP: body_len 0", r.body_len == 0, 0, r.body_len);

    // Objects need GET_OBJECT first.
    let mut buf = [0u8; 16];
    let mut q = req_id(id);
    set_buf(&mut q, &mut buf);
    expect_err(
        "READ_OBJECT before GET_OBJECT -> EINVAL",
        call(Action::ReadObject, &mut q),
        libc::EINVAL,
    );
    expect_err(
        "SEND_OBJECT before GET_OBJECT -> EINVAL",
        call(Action::SendObject, &mut req_id(id)),
        libc::EINVAL,
    );
    let mut q = req_id(id);
    set_buf(&mut q, &mut buf);
    expect(
        "READ_POST_DATA without a body -> 0",
        call(Action::ReadPostData, &mut q),
        0,
    );

    let mut q = TuxReq {
        event: 7,
        private: 0x1234,
        ..req_id(id)
    };
    expect("POSTPONE_REQ -> 0", call(Action::PostponeReq, &mut q), 0);
    expect_err(
        "POSTPONE_REQ again -> EINVAL",
        call(Action::PostponeReq, &mut q),
        libc::EINVAL,
    );
    expect_err(
        "POSTPONE_REQ unknown id -> ENOENT",
        call(Action::PostponeReq, &mut req_id(RANDOM_ID)),
        libc::ENOENT,
    );
    expect_any(
        "CONTINUE_REQ unknown id -> ENOENT or EINVAL",
        call(Action::ContinueReq, &mut req_id(RANDOM_ID)),
        &[neg(libc::ENOENT), neg(libc::EINVAL)],
    );
    // Another process can neither continue it nor change its event and private.
    test_unprivileged("unprivileged, postponed request", id);
    let cont = thread::spawn(move || call(Action::ContinueReq, &mut req_id(id))).join();
    expect(
        "CONTINUE_REQ from another thread -> 0",
        cont.unwrap_or(i64::MIN),
        0,
    );
    let mut r = req();
    let ret = eventloop_bounded(&mut r, LOOP_TIMEOUT);
    if !expect("EVENTLOOP after CONTINUE_REQ -> 0", ret, 0) {
        return;
    }
    check(
        "EVENTLOOP after CONTINUE_REQ: the same id",
        r.id == id,
        id,
        r.id,
    );
    check(
        "EVENTLOOP after CONTINUE_REQ: event 7 (another process's POSTPONE_REQ left it)",
        r.event == 7,
        7,
        r.event,
    );
    check(
        "EVENTLOOP after CONTINUE_REQ: private 0x1234 (another process's POSTPONE_REQ left it)",
        r.private == 0x1234,
        "0x1234",
        format!("{:#x}", r.private),
    );
    expect_err(
        "CONTINUE_REQ on a held request -> EINVAL",
        call(Action::ContinueReq, &mut req_id(id)),
        libc::EINVAL,
    );

    test_proxy(id);

    let body = b"postponed";
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\npostponed",
        body.len()
    );
    let mut q = req_id(id);
    set_cbuf(&mut q, resp.as_bytes());
    expect(
        "SEND_BUFFER (postponed request) -> length",
        call(Action::SendBuffer, &mut q),
        resp.len() as i64,
    );
    let wants: &[i64] = match clientport() {
        Some(0) => &[neg(libc::ECONNREFUSED)],
        Some(_) => &[neg(libc::EBUSY)],
        None => &[neg(libc::EBUSY), neg(libc::ECONNREFUSED)],
    };
    expect_any(
        "REDIRECT_REQ after sending -> EBUSY (ECONNREFUSED without clientport)",
        call(Action::RedirectReq, &mut req_id(id)),
        wants,
    );
    let mut q = TuxReq {
        http_status: 200,
        ..req_id(id)
    };
    expect(
        "FINISH_CLOSE_REQ -> 0",
        call(Action::FinishCloseReq, &mut q),
        0,
    );
    let mut c = c;
    match c.response() {
        Ok(r) => {
            check(
                "postponed: client gets the response",
                r.raw == resp.as_bytes(),
                format!("{resp:?}"),
                format!("{:?}", String::from_utf8_lossy(&r.raw)),
            );
            match c.read_to_eof() {
                Ok(rest) => check(
                    "FINISH_CLOSE_REQ: then EOF",
                    rest.is_empty(),
                    "EOF",
                    format!("{} more bytes", rest.len()),
                ),
                Err(e) => check("FINISH_CLOSE_REQ: then EOF", false, "EOF", e),
            };
        }
        Err(e) => fail("postponed: client gets the response", "200", e),
    }
}

/// WATCH_PROXY_SOCKET / WAIT_PROXY_SOCKET on the held request `id`.
fn test_proxy(id: u64) {
    // A readable TCP socket: connected to a local listener that wrote a byte.
    let proxy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| {
        let a = l.local_addr()?;
        let c = TcpStream::connect(a)?;
        let (mut s, _) = l.accept()?;
        s.write_all(b"x")?;
        Ok((c, s))
    });
    let (c, _server_side) = match proxy {
        Ok(p) => p,
        Err(e) => return fail("proxy socket", "a connected pair", e),
    };
    let mut q = TuxReq {
        proxy_fd: -1,
        ..req_id(id)
    };
    let bad = call(Action::WatchProxySocket, &mut q);
    expect_any(
        "WATCH_PROXY_SOCKET proxy_fd -1 -> EBADF (EOPNOTSUPP if unimplemented)",
        bad,
        &[neg(libc::EBADF), neg(libc::EOPNOTSUPP)],
    );
    let pipe_fd = pipe();
    if let Ok((rfd, wfd)) = pipe_fd {
        let mut q = TuxReq {
            proxy_fd: rfd,
            ..req_id(id)
        };
        expect_any(
            "WATCH_PROXY_SOCKET a pipe -> ENOTSOCK (EOPNOTSUPP if unimplemented)",
            call(Action::WatchProxySocket, &mut q),
            &[neg(libc::ENOTSOCK), neg(libc::EOPNOTSUPP)],
        );
        close(rfd);
        close(wfd);
    }
    let mut q = TuxReq {
        proxy_fd: c.as_raw_fd(),
        ..req_id(id)
    };
    let w = call(Action::WatchProxySocket, &mut q);
    expect_any(
        "WATCH_PROXY_SOCKET a TCP socket -> 0 or EOPNOTSUPP",
        w,
        &[0, neg(libc::EOPNOTSUPP)],
    );
    note(format!(
        "WATCH_PROXY_SOCKET -> {} ({})",
        fmt_ret(w),
        if w == neg(libc::EOPNOTSUPP) {
            "not implemented yet"
        } else {
            "implemented"
        }
    ));
    let mut q = req_id(id);
    // The socket is readable: this must not block; bounded anyway (SIGUSR1 -> EINTR).
    let me = pthread_self();
    let (tx, rx) = mpsc::channel::<()>();
    let alarm = thread::spawn(move || {
        if rx.recv_timeout(LOOP_TIMEOUT).is_err() {
            kick(me);
        }
    });
    let wt = call(Action::WaitProxySocket, &mut q);
    let _ = tx.send(());
    let _ = alarm.join();
    let want = if w == 0 { 1 } else { neg(libc::EOPNOTSUPP) };
    expect_any(
        "WAIT_PROXY_SOCKET on a readable socket -> 1 (EOPNOTSUPP if unimplemented)",
        wt,
        &[want],
    );
    note(format!(
        "WAIT_PROXY_SOCKET -> {} ({})",
        fmt_ret(wt),
        if wt == neg(libc::EOPNOTSUPP) {
            "not implemented yet"
        } else {
            "implemented"
        }
    ));
}

fn test_redirect() {
    let c = match client_with(b"GET /tc/redirect HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") {
        Ok(c) => c,
        Err(e) => return fail("redirect: client", "connected", e),
    };
    let mut r = req();
    if !expect(
        "EVENTLOOP (redirect request) -> 0",
        eventloop_bounded(&mut r, LOOP_TIMEOUT),
        0,
    ) {
        return;
    }
    let id = r.id;
    let port = clientport();
    let listening = match port {
        Some(0) => false,
        p => TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], p.unwrap_or(8080))),
            Duration::from_secs(1),
        )
        .is_ok(),
    };
    note(format!(
        "clientport {port:?}, something listening: {listening}"
    ));
    let ret = call(Action::RedirectReq, &mut req_id(id));
    if listening {
        expect("REDIRECT_REQ with a fallback server -> 0", ret, 0);
        expect_err(
            "FINISH_REQ after REDIRECT_REQ -> ENOENT",
            call(Action::FinishReq, &mut req_id(id)),
            libc::ENOENT,
        );
        return;
    }
    expect_err(
        "REDIRECT_REQ with nobody on clientport -> ECONNREFUSED",
        ret,
        libc::ECONNREFUSED,
    );
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nrefused!";
    let reader = read_async(c);
    let mut q = req_id(id);
    set_cbuf(&mut q, resp);
    expect(
        "SEND_BUFFER after a refused REDIRECT_REQ -> length",
        call(Action::SendBuffer, &mut q),
        resp.len() as i64,
    );
    let mut q = TuxReq {
        http_status: 200,
        ..req_id(id)
    };
    expect(
        "FINISH_REQ after a refused REDIRECT_REQ -> 0",
        call(Action::FinishReq, &mut q),
        0,
    );
    if let Some((_, r)) = join_response("refused redirect: client gets the module's answer", reader)
    {
        check(
            "refused redirect: client gets the module's answer",
            r.raw == resp,
            format!("{:?}", String::from_utf8_lossy(resp)),
            format!("{:?}", String::from_utf8_lossy(&r.raw)),
        );
    }
}

/// A child process that takes a request and exits without answering it.
fn dies_child(fd: libc::c_int) -> ! {
    let say = |b: u8| {
        // SAFETY: one byte to our pipe.
        unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
    };
    // SAFETY: alarm is async-signal-safe; SIGALRM's default action ends a stuck child.
    unsafe { libc::alarm(15) };
    if register(b"/dies") < 0 {
        say(b'R');
    } else if call(Action::StartThread, &mut req_nr(0)) != 0 {
        say(b'T');
    } else {
        say(b'r');
        let mut r = req();
        let ret = call(Action::EventLoop, &mut r);
        say(if ret == 0 { b'e' } else { b'x' });
    }
    // SAFETY: leaves without running the parent's destructors or atexit handlers.
    unsafe { libc::_exit(0) }
}

fn test_process_dies() {
    let (rfd, wfd) = match pipe() {
        Ok(p) => p,
        Err(e) => return fail("dying module", "a pipe", e),
    };
    let pid = match fork() {
        Ok(0) => {
            close(rfd);
            dies_child(wfd)
        }
        Ok(p) => p,
        Err(e) => {
            close(rfd);
            close(wfd);
            return fail("dying module", "fork", e);
        }
    };
    close(wfd);
    let mut b = [0u8; 1];
    let n = read_fd(rfd, &mut b, Duration::from_secs(5));
    if !check(
        "dying module: child registered /dies and started a thread",
        n == 1 && b[0] == b'r',
        "'r'",
        if n == 1 {
            format!("{:?}", b[0] as char)
        } else {
            "nothing".into()
        },
    ) {
        close(rfd);
        reap(pid, Duration::from_secs(1));
        return;
    }
    let aborted_before = stat("module_aborted");
    let mut c = match client_with(b"GET /dies/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") {
        Ok(c) => c,
        Err(e) => {
            close(rfd);
            reap(pid, Duration::from_secs(1));
            return fail("dying module: client", "connected", e);
        }
    };
    let n = read_fd(rfd, &mut b, Duration::from_secs(5));
    close(rfd);
    check(
        "dying module: child's EVENTLOOP returned the request",
        n == 1 && b[0] == b'e',
        "'e'",
        if n == 1 {
            format!("{:?}", b[0] as char)
        } else {
            "nothing".into()
        },
    );
    let status = reap(pid, Duration::from_secs(5));
    let died = Instant::now();
    check(
        "dying module: child exited",
        status.is_some_and(|s| libc::WIFEXITED(s)),
        "exited",
        format!("{status:?}"),
    );
    match c.response() {
        Ok(r) => {
            let t = died.elapsed();
            check(
                "dying module: client gets 503 (or 504)",
                r.status == 503 || r.status == 504,
                "503 or 504",
                r.status,
            );
            check(
                "dying module: answered within 3.5 s of the exit",
                t <= Duration::from_millis(3500),
                "<= 3.5 s",
                format!("{:.2} s", t.as_secs_f64()),
            );
        }
        Err(e) => fail("dying module: client gets 503 (or 504)", "a response", e),
    }
    match (aborted_before, stat("module_aborted")) {
        (Some(b), Some(a)) => {
            check(
                "dying module: module_aborted increased",
                a > b,
                format!("> {b}"),
                a,
            );
        }
        other => fail(
            "dying module: module_aborted",
            "readable stats",
            format!("{other:?}"),
        ),
    }
    // The dead process's module is gone.
    let again = register(b"/dies");
    if expect_nonneg("dying module: /dies can be registered again", again) {
        expect("UNREGISTER_MODULE /dies", unregister(b"/dies"), 0);
    }
}

fn test_mimetype() {
    let ext = b"tcx";
    let ty = b"text/x-tuxcall";
    let mut r = req_name(ext);
    r.value = ty.as_ptr() as u64;
    r.value_len = ty.len() as u64;
    let ret = call(Action::RegisterMimetype, &mut r);
    expect_any(
        "REGISTER_MIMETYPE tcx -> 0 or EOPNOTSUPP",
        ret,
        &[0, neg(libc::EOPNOTSUPP)],
    );
    note(format!(
        "REGISTER_MIMETYPE -> {} ({})",
        fmt_ret(ret),
        if ret == neg(libc::EOPNOTSUPP) {
            "not implemented yet"
        } else {
            "implemented"
        }
    ));
    let mut r = req_name(b"");
    r.name_len = 0;
    let bad = call(Action::RegisterMimetype, &mut r);
    expect_any(
        "REGISTER_MIMETYPE empty extension -> EINVAL (EOPNOTSUPP if unimplemented)",
        bad,
        &[neg(libc::EINVAL), neg(libc::EOPNOTSUPP)],
    );
}

fn test_cleanup() {
    expect("UNREGISTER_MODULE /tc -> 0", unregister(b"/tc"), 0);
    expect_err(
        "UNREGISTER_MODULE /tc again -> ENOENT",
        unregister(b"/tc"),
        libc::ENOENT,
    );
    expect(
        "STOPTHREAD nr 0 -> 0",
        call(Action::StopThread, &mut req_nr(0)),
        0,
    );
    expect(
        "EVENTLOOP after STOPTHREAD -> EXIT",
        eventloop_bounded(&mut req(), LOOP_TIMEOUT),
        TUX_RETURN_EXIT,
    );
    expect_err(
        "STOPTHREAD nr 0 again -> ESRCH",
        call(Action::StopThread, &mut req_nr(0)),
        libc::ESRCH,
    );
}

/// SHUTDOWN (waking a blocked module thread), STARTUP, and serving again.
fn test_shutdown_startup(file: &[u8]) {
    let name = b"/tc-shut";
    expect_nonneg("REGISTER_MODULE /tc-shut -> index", register(name));
    let looper = spawn_looper(20);
    thread::sleep(Duration::from_millis(200));
    expect("SHUTDOWN -> 0", call_null(Action::Shutdown), 0);
    match looper {
        Ok(l) => {
            match l.first(LOOP_TIMEOUT, false) {
                Some(v) => {
                    expect("SHUTDOWN: blocked EVENTLOOP -> EXIT", v, TUX_RETURN_EXIT);
                }
                None => fail("SHUTDOWN: blocked EVENTLOOP", "EXIT", "did not return"),
            }
            if l.join(Duration::from_secs(3)).is_none() {
                fail(
                    "SHUTDOWN: module thread ends",
                    "ended",
                    "still in EVENTLOOP",
                );
            }
        }
        Err(e) => fail("STARTTHREAD nr 20 (shutdown test)", "0", e),
    }
    expect_err(
        "SHUTDOWN: modules unregistered (UNREGISTER /tc-shut -> ENOENT)",
        unregister(name),
        libc::ENOENT,
    );
    expect_err(
        "SHUTDOWN again -> ESRCH",
        call_null(Action::Shutdown),
        libc::ESRCH,
    );
    let up = call_null(Action::Startup);
    expect("STARTUP -> 0", up, 0);
    if up != 0 {
        note("restarting through /proc/sys/net/tux/running");
        if let Err(e) = std::fs::write("/proc/sys/net/tux/running", "1\n") {
            note(format!("writing /proc/sys/net/tux/running: {e}"));
        }
    }
    expect_err(
        "STARTUP again -> EBUSY",
        call_null(Action::Startup),
        libc::EBUSY,
    );
    // Serving again (the listener may take a moment).
    let end = Instant::now() + Duration::from_secs(3);
    let mut c = loop {
        match Client::connect() {
            Ok(c) => break Some(c),
            Err(_) if Instant::now() < end => thread::sleep(Duration::from_millis(100)),
            Err(e) => {
                fail("after STARTUP: connect", "connected", e);
                break None;
            }
        }
    };
    if let Some(c) = c.as_mut() {
        check_static("after STARTUP: GET /index.html -> 200", c, file);
    }
}

fn main() {
    thread::spawn(|| {
        thread::sleep(Duration::from_secs(60));
        println!("not ok - watchdog: done within 60 s vs still running");
        println!(
            "{} passed, {} failed",
            PASSED.load(Relaxed),
            FAILED.load(Relaxed) + 1
        );
        std::process::exit(1);
    });
    if let Err(e) = install_sigusr1() {
        fail("SIGUSR1 handler", "installed", e);
    }
    let root = docroot();
    let index = format!("{root}/index.html");
    let file = match std::fs::read(&index) {
        Ok(f) => f,
        Err(e) => {
            fail("read the docroot's index.html", &index, e);
            Vec::new()
        }
    };
    note(format!("docroot {root}, index.html {} bytes", file.len()));

    test_version();
    test_bad_actions();
    expect_err(
        "STARTUP while running -> EBUSY",
        call_null(Action::Startup),
        libc::EBUSY,
    );
    test_sizes();
    test_pointers();
    test_versions();
    test_current_date();
    test_mimetype();
    let module = test_register();
    test_threads();
    test_eventloop_wakeups();
    test_request_cycle(module, &file);
    test_postpone();
    test_redirect();
    test_process_dies();
    test_cleanup();
    test_shutdown_startup(&file);

    let (p, f) = (PASSED.load(Relaxed), FAILED.load(Relaxed));
    println!("{p} passed, {f} failed");
    std::process::exit(i32::from(f != 0));
}
