// SPDX-License-Identifier: GPL-2.0

//! `tux tlsd`: the TLS handshake agent for the kernel's `net/handshake`
//! upcall, for the connections TUX accepts on its HTTPS port.
//!
//! The kernel multicasts `READY` (group `tlshd`) when a handshake waits;
//! this loop answers with `ACCEPT` for as many requests as there are idle
//! workers, and hands each accepted socket to a fixed pool of
//! `https.max_handshakes` threads through a bounded channel. A worker runs
//! the rustls handshake (handshake.rs), installs kTLS (ktls.rs), sends
//! `DONE` and closes its fd; the kernel then owns the connection.
//!
//! Back-pressure: no `ACCEPT` is sent while every worker is busy. The
//! requests stay queued in the kernel (which times them out itself); a
//! worker that frees up wakes the loop, which accepts again. Requests
//! are never taken only to be refused.
//!
//! Signals: SIGHUP reloads the certificates (new handshakes use them, the
//! ones in flight finish with the old set; a failed reload keeps the old
//! set), SIGUSR1 prints the counters, SIGTERM/SIGINT stop (the handshakes
//! in flight finish first, each bounded by its timeout).
//!
//! The handshake family is per network namespace: the agent serves the
//! namespace it runs in. It needs CAP_NET_ADMIN there (ACCEPT and DONE are
//! GENL_ADMIN_PERM).

pub mod agent;
pub mod certs;
pub mod genl;
pub mod handshake;
pub mod ktls;

pub use handshake::provider;

use crate::config::{Config, HttpsConf};
use rustls::ServerConfig;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Handshake counters, printed on SIGUSR1 and at exit.
#[derive(Default, Debug)]
pub struct Stats {
    /// Handshakes done, kTLS installed.
    pub ok: AtomicU64,
    /// TLS or socket errors, kTLS refused.
    pub failed: AtomicU64,
    /// Deadline passed.
    pub timed_out: AtomicU64,
    /// Requests we do not serve (client side, PSK) or could not queue.
    pub refused: AtomicU64,
}

impl Stats {
    fn line(&self) -> String {
        format!(
            "handshakes: {} ok, {} failed, {} timed out, {} refused",
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.timed_out.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed)
        )
    }
}

fn log(msg: impl std::fmt::Display) {
    eprintln!("tux tlsd: {msg}");
}

/// The TLS server configuration for `h`'s certificates.
pub fn tls_config(h: &HttpsConf) -> Result<Arc<ServerConfig>, String> {
    let store = certs::CertStore::load(h, &provider())?;
    handshake::server_config(Arc::new(store))
}

struct Job {
    fd: OwnedFd,
    timeout: Duration,
    tls: Arc<ServerConfig>,
}

/// The peer's address, for the log.
fn peer(fd: RawFd) -> String {
    // SAFETY: a zeroed sockaddr_storage is valid; getpeername fills at most `len`.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getpeername(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        ) != 0
        {
            return "?".to_string();
        }
        match libc::c_int::from(ss.ss_family) {
            libc::AF_INET => {
                let a = &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                format!("{ip}:{}", u16::from_be(a.sin_port))
            }
            libc::AF_INET6 => {
                let a = &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                format!("[{ip}]:{}", u16::from_be(a.sin6_port))
            }
            f => format!("family {f}"),
        }
    }
}

/// Says DONE for `fd` with `status` (0 or a positive errno).
fn done(sock: &mut Option<genl::Socket>, family: u16, fd: RawFd, status: i32) {
    if sock.is_none() {
        match genl::Socket::open() {
            Ok(s) => *sock = Some(s),
            Err(e) => {
                log(format_args!("DONE: netlink socket: {e}"));
                return;
            }
        }
    }
    if let Some(s) = sock.as_mut() {
        // EBUSY: the kernel gave up on the request already (its timeout).
        if let Err(e) = s.request(|seq| genl::encode_done(family, seq, status as u32, fd)) {
            if e.raw_os_error() != Some(libc::EBUSY) {
                log(format_args!("DONE for fd {fd}: {e}"));
            }
        }
    }
}

/// One handshake, start to DONE. The fd is closed on return.
fn handle(job: Job, sock: &mut Option<genl::Socket>, family: u16, stats: &Stats) {
    let fd = job.fd.as_raw_fd();
    let who = peer(fd);
    let mut io = handshake::DeadlineIo::new(job.fd.as_fd(), Instant::now() + job.timeout);
    let status = match handshake::serve(&mut io, job.tls) {
        Ok(f) => {
            let (version, suite, sni) = (f.version, f.suite, f.sni);
            match ktls::install(job.fd.as_fd(), version, f.secrets) {
                Ok(()) => {
                    stats.ok.fetch_add(1, Ordering::Relaxed);
                    0
                }
                Err(e) => {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    log(format_args!(
                        "handshake with {who} failed: {e} ({version:?}, {suite:?}, SNI {sni:?})"
                    ));
                    e.errno()
                }
            }
        }
        Err(e) => {
            let counter = match e {
                handshake::Failure::TimedOut => &stats.timed_out,
                _ => &stats.failed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            log(format_args!("handshake with {who} failed: {e}"));
            e.errno()
        }
    };
    done(sock, family, fd, status);
    drop(job.fd);
}

/// A worker: takes jobs until the channel closes.
fn worker(
    rx: Arc<Mutex<Receiver<Job>>>,
    family: u16,
    stats: Arc<Stats>,
    idle: Arc<AtomicUsize>,
    wake: Arc<OwnedFd>,
) {
    let mut sock = genl::Socket::open().ok();
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
            match guard.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        handle(job, &mut sock, family, &stats);
        idle.fetch_add(1, Ordering::AcqRel);
        // SAFETY: one byte from a valid buffer; a full pipe (EAGAIN) is
        // fine, the loop is awake already.
        unsafe { libc::write(wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }
}

/// Blocks `sigs` in this thread (and the threads it spawns) and returns a
/// signalfd for them.
fn signalfd(sigs: &[libc::c_int]) -> io::Result<OwnedFd> {
    // SAFETY: the sigset is initialised by sigemptyset before use; the new
    // fd is owned at once.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in sigs {
            libc::sigaddset(&mut set, *s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn read_signal(fd: RawFd) -> Option<i32> {
    // SAFETY: signalfd_siginfo is plain data; read fills at most its size.
    unsafe {
        let mut si: libc::signalfd_siginfo = std::mem::zeroed();
        let n = libc::read(
            fd,
            (&mut si as *mut libc::signalfd_siginfo).cast(),
            std::mem::size_of::<libc::signalfd_siginfo>(),
        );
        (n == std::mem::size_of::<libc::signalfd_siginfo>() as isize).then_some(si.ssi_signo as i32)
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors, owned at once.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// The pid file: written once the agent listens, removed at exit if ours.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn write(path: &Path) -> Result<PidFile, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let tmp = path.with_extension("pid.tmp");
        std::fs::write(&tmp, format!("{}\n", std::process::id()))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("pid file {}: {e}", path.display()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.0)
            .map(|s| s.trim() == std::process::id().to_string())
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

const NEEDS_CAP: &str = "tux tlsd needs CAP_NET_ADMIN in its network namespace";

/// What the loop keeps.
struct Agent {
    family: u16,
    ctl: genl::Socket,
    tx: SyncSender<Job>,
    idle: Arc<AtomicUsize>,
    stats: Arc<Stats>,
    tls: Arc<ServerConfig>,
    https: HttpsConf,
}

impl Agent {
    /// ACCEPTs while a worker is idle and the kernel has requests. Fails
    /// only when ACCEPT is not permitted (no CAP_NET_ADMIN): fatal.
    fn drain(&mut self) -> Result<(), String> {
        // Bounded by the idle workers; each pass takes one request.
        while self.idle.load(Ordering::Acquire) > 0 {
            let family = self.family;
            let reply = match self.ctl.request(|seq| genl::encode_accept(family, seq)) {
                Ok(Some(a)) => a,
                Ok(None) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    return Err(format!("handshake ACCEPT: {e}: {NEEDS_CAP}"));
                }
                Err(e) => {
                    log(format_args!("ACCEPT: {e}"));
                    return Ok(());
                }
            };
            match genl::decode_accept(&reply) {
                Ok(r) => self.dispatch(r),
                Err(e) => {
                    log(format_args!("ACCEPT reply: {e}"));
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn refuse(&mut self, fd: OwnedFd, status: i32, why: &str) {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        log(format_args!(
            "refused a handshake from {}: {why}",
            peer(fd.as_raw_fd())
        ));
        // The control socket is idle between ACCEPTs: it says DONE.
        let fam = self.family;
        if let Err(e) = self
            .ctl
            .request(|seq| genl::encode_done(fam, seq, status as u32, fd.as_raw_fd()))
        {
            log(format_args!("DONE: {e}"));
        }
    }

    fn dispatch(&mut self, r: genl::AcceptReply) {
        // SAFETY: the kernel installed this fd in our table for this
        // request (handshake_dup); nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(r.sockfd) };
        if r.message_type != genl::MSG_TYPE_SERVERHELLO {
            return self.refuse(
                fd,
                libc::EOPNOTSUPP,
                &format!(
                    "message type {} (only SERVERHELLO is served)",
                    match r.message_type {
                        genl::MSG_TYPE_CLIENTHELLO => "CLIENTHELLO".to_string(),
                        t => t.to_string(),
                    }
                ),
            );
        }
        if r.auth_mode != genl::AUTH_X509 {
            return self.refuse(
                fd,
                libc::EOPNOTSUPP,
                &format!(
                    "auth mode {} (only x509 is served)",
                    match r.auth_mode {
                        genl::AUTH_UNAUTH => "UNAUTH".to_string(),
                        genl::AUTH_PSK => "PSK".to_string(),
                        m => m.to_string(),
                    }
                ),
            );
        }
        let timeout = if r.timeout_ms > 0 {
            Duration::from_millis(u64::from(r.timeout_ms))
        } else {
            self.https.handshake_timeout
        };
        self.idle.fetch_sub(1, Ordering::AcqRel);
        let job = Job {
            fd,
            timeout,
            tls: self.tls.clone(),
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(j) | TrySendError::Disconnected(j)) => {
                // Not expected (we count idle workers); fail it at once.
                self.idle.fetch_add(1, Ordering::AcqRel);
                self.refuse(j.fd, libc::EBUSY, "no worker free");
            }
        }
    }

    fn reload(&mut self, config_path: &Path) {
        let r = Config::load(config_path).and_then(|c| {
            let h = c
                .https
                .ok_or_else(|| "config: [https] is gone".to_string())?;
            Ok((tls_config(&h)?, h))
        });
        match r {
            Ok((tls, h)) => {
                if h.max_handshakes != self.https.max_handshakes {
                    log("https.max_handshakes changes at the next start");
                }
                self.tls = tls;
                self.https.handshake_timeout = h.handshake_timeout;
                self.https.cert = h.cert;
                self.https.key = h.key;
                self.https.hosts = h.hosts;
                log(format_args!(
                    "reloaded: default certificate and {} host(s)",
                    self.https.hosts.len()
                ));
            }
            Err(e) => log(format_args!(
                "reload failed, keeping the old certificates: {e}"
            )),
        }
    }
}

/// Joins the kernel's `handshake` family and its `tlshd` group.
fn subscribe() -> Result<(genl::Socket, u16), String> {
    let mut mc = genl::Socket::open().map_err(|e| format!("netlink socket: {e}"))?;
    let (family, groups) = mc.resolve(genl::FAMILY_NAME).map_err(|e| {
        if e.raw_os_error() == Some(libc::ENOENT) {
            "generic netlink family \"handshake\" not found: this kernel lacks \
             CONFIG_NET_HANDSHAKE"
                .to_string()
        } else {
            format!("resolving generic netlink family \"handshake\": {e}")
        }
    })?;
    let group = groups
        .iter()
        .find(|(n, _)| n == genl::MCGRP_TLSHD)
        .map(|(_, id)| *id)
        .ok_or("the handshake family has no \"tlshd\" multicast group")?;
    mc.join(group)
        .map_err(|e| format!("joining multicast group tlshd: {e}"))?;
    Ok((mc, family))
}

/// `tux tlsd`.
pub fn run(config_path: &Path) -> Result<(), String> {
    let c = Config::load(config_path)?;
    let https = c.https.ok_or_else(|| {
        format!(
            "{}: no [https] table: tux tlsd has nothing to serve",
            config_path.display()
        )
    })?;
    let tls = tls_config(&https)?;
    // Before any thread: the workers inherit the blocked mask.
    let sigfd = signalfd(&[libc::SIGHUP, libc::SIGINT, libc::SIGTERM, libc::SIGUSR1])
        .map_err(|e| format!("signalfd: {e}"))?;
    let (mut mc, family) = subscribe()?;
    let ctl = genl::Socket::open().map_err(|e| format!("netlink socket: {e}"))?;
    let (wake_r, wake_w) = pipe().map_err(|e| format!("pipe: {e}"))?;
    let wake_w = Arc::new(wake_w);

    let n = https.max_handshakes as usize;
    let (tx, rx) = sync_channel::<Job>(n);
    let rx = Arc::new(Mutex::new(rx));
    let idle = Arc::new(AtomicUsize::new(n));
    let stats = Arc::new(Stats::default());
    let mut workers = Vec::with_capacity(n);
    for i in 0..n {
        let (rx, stats, idle) = (rx.clone(), stats.clone(), idle.clone());
        let wake = wake_w.clone();
        let h = std::thread::Builder::new()
            .name(format!("tlsd-{i}"))
            .spawn(move || worker(rx, family, stats, idle, wake))
            .map_err(|e| format!("starting worker {i}: {e}"))?;
        workers.push(h);
    }
    log(format_args!(
        "serving handshakes in this network namespace: {n} worker(s), {} host(s)",
        https.hosts.len()
    ));
    let mut agent = Agent {
        family,
        ctl,
        tx,
        idle,
        stats: stats.clone(),
        tls,
        https,
    };
    // Requests queued before we joined the group get no READY of their own.
    // This first ACCEPT also checks the permission before the pid file
    // tells `tux run` that the agent serves.
    agent.drain()?;
    let pid_file = PidFile::write(&agent.https.pid_file)?;
    let mut buf = [0u8; 64];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: mc.raw(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sigfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wake_r.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: three valid pollfds. A timeout is a periodic drain: cheap
        // insurance against a lost READY.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 3, 2000) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("poll: {e}"));
        }
        let mut want_drain = r == 0;
        if fds[1].revents != 0 {
            let mut stop = false;
            while let Some(sig) = read_signal(sigfd.as_raw_fd()) {
                match sig {
                    libc::SIGHUP => agent.reload(config_path),
                    libc::SIGUSR1 => log(stats.line()),
                    _ => stop = true,
                }
            }
            if stop {
                break;
            }
        }
        if fds[0].revents != 0 {
            // Every READY (and an overrun) means: ACCEPT what waits.
            // Bounded: the socket drains, then EAGAIN.
            for _ in 0..1024 {
                match mc.recv(libc::MSG_DONTWAIT) {
                    Ok(len) => {
                        let ready = genl::messages(mc.received(len))
                            .map(|ms| {
                                ms.iter()
                                    .any(|m| matches!(m.genl(), Some((genl::CMD_READY, _))))
                            })
                            .unwrap_or(false);
                        want_drain |= ready;
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => want_drain = true,
                    Err(_) => break,
                }
            }
        }
        if fds[2].revents != 0 {
            // SAFETY: reads into a local buffer.
            while unsafe { libc::read(wake_r.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0
            {
            }
            want_drain = true;
        }
        if want_drain {
            agent.drain()?;
        }
    }
    log("stopping: letting the handshakes in flight finish");
    drop(agent);
    for w in workers {
        let _ = w.join();
    }
    drop(pid_file);
    log(stats.line());
    Ok(())
}
