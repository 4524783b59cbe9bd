// SPDX-License-Identifier: GPL-2.0

//! `tux run` and the small commands.

use crate::config::{Config, Kind};
use crate::modules;
use crate::tlsd::agent::Supervisor;
use libtux::cgi::CgiModule;
use libtux::tux_abi::Action;
use libtux::{Error, Server};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

const SYSCTL_DIR: &str = "/proc/sys/net/tux";
const PROC_LOG: &str = "/proc/net/tux/log";
const PROC_STATS: &str = "/proc/net/tux/stats";

fn write_sysctl(name: &str, value: &str) -> Result<(), String> {
    let path = format!("{SYSCTL_DIR}/{name}");
    std::fs::write(&path, format!("{value}\n")).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{path}: not found: this kernel has no such TUX setting")
        }
        _ => format!("cannot write {value:?} to {path}: {e}"),
    })
}

/// What to say when /proc/sys/net/tux is missing on a kernel with tux(2).
const NOT_THIS_NAMESPACE: &str = "/proc/sys/net/tux is missing: /proc is not mounted, or \
     this kernel's TUX serves the initial network namespace only and this process is in another";

/// Fails unless this process sees TUX's settings (those of its network
/// namespace; a kernel before per-namespace TUX has them in the initial one only).
fn settings_here() -> Result<(), String> {
    if Path::new(SYSCTL_DIR).is_dir() {
        Ok(())
    } else {
        Err(NOT_THIS_NAMESPACE.to_string())
    }
}

/// Writes the configured settings to /proc/sys/net/tux.
fn configure(c: &Config) -> Result<(), String> {
    if let Some(d) = &c.docroot {
        write_sysctl("documentroot", &d.to_string_lossy())?;
    }
    if let Some(l) = c.listen {
        write_sysctl("listen", &l.to_string())?;
    }
    if let Some(p) = c.port {
        write_sysctl("port", &p.to_string())?;
    }
    if let Some(p) = c.fallback_port {
        write_sysctl("clientport", &p.to_string())?;
    }
    if let Some(t) = c.module_timeout {
        write_sysctl("module_timeout", &t.to_string())?;
    }
    if c.log_file.is_some() {
        write_sysctl("logging", "1")?;
    }
    if let Some(h) = &c.https {
        let path = format!("{SYSCTL_DIR}/https_port");
        if !Path::new(&path).exists() {
            return Err(format!(
                "{path}: not found: [https] needs a kernel with TUX's HTTPS support \
                 (CONFIG_TUX_HTTPS, with CONFIG_TLS and CONFIG_KEYS)"
            ));
        }
        write_sysctl("https_port", &h.port.to_string())?;
        // The kernel's deadline and the agent's are the same.
        write_sysctl(
            "handshake_timeout",
            &h.handshake_timeout.as_secs().to_string(),
        )?;
    }
    Ok(())
}

/// Starts `tux tlsd` when the configuration serves HTTPS.
fn start_agent(c: &Config, config_path: &Path) -> Result<Option<Supervisor>, String> {
    match &c.https {
        Some(h) if h.port != 0 => {
            let s = Supervisor::start(config_path, &h.pid_file, h.handshake_timeout)?;
            eprintln!("tux: tlsd serves TLS handshakes for port {}", h.port);
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

/// Appends whatever /proc/net/tux/log holds to the log file.
struct LogDrain {
    path: std::path::PathBuf,
    file: File,
}

impl LogDrain {
    fn open(path: &Path) -> Result<LogDrain, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("log_file {}: {e}", path.display()))?;
        Ok(LogDrain {
            path: path.to_path_buf(),
            file,
        })
    }

    /// On SIGHUP: the file may have been rotated away.
    fn reopen(&mut self) {
        match LogDrain::open(&self.path) {
            Ok(n) => *self = n,
            Err(e) => eprintln!("tux: {e} (keeping the old file)"),
        }
    }

    fn drain(&mut self) {
        let Ok(mut src) = File::open(PROC_LOG) else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        // The ring is bounded; so is this loop (a reader can only catch up).
        for _ in 0..64 {
            match src.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Err(e) = self.file.write_all(buf.get(..n).unwrap_or(&[])) {
                        eprintln!("tux: writing {}: {e}", self.path.display());
                        break;
                    }
                }
            }
        }
    }
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: initialises a local sigset with the libc helpers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// `tux run`.
pub fn run(c: &Config, config_path: &Path, attach: bool) -> Result<(), String> {
    let kernel = libtux::check_kernel().map_err(|e| e.to_string())?;
    settings_here()?;
    // Block the signals in every thread; the main thread takes them with
    // sigtimedwait, so module threads never see them.
    let set = signal_set();
    // SAFETY: `set` is initialised.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };

    let mut log = match &c.log_file {
        Some(p) => Some(LogDrain::open(p)?),
        None => None,
    };
    // The kernel copies the MIME table when the server starts: register it
    // first (with --attach, it applies from the server's next start).
    for (ext, ty) in &c.mimetypes {
        libtux::register_mimetype(ext, ty).map_err(|e| format!("mimetypes.{ext}: {e}"))?;
    }
    if !attach {
        // Writing the settings to a running TUX would restart it with this
        // configuration before STARTUP could say EBUSY: refuse first.
        if read_sysctl("running").as_deref() == Some("1") {
            return Err(
                "TUX is already running (run `tux stop` first, or `tux run --attach` \
                        to add modules to it)"
                    .to_string(),
            );
        }
        configure(c)?;
    }
    // The agent listens before TUX accepts HTTPS connections: a handshake
    // request finding no listener fails at once.
    let mut agent = if attach {
        None
    } else {
        start_agent(c, config_path)?
    };
    if !attach {
        libtux::startup().map_err(|e| {
            if e.is(Action::Startup, libc::EBUSY) {
                format!("{e} (run `tux stop` first, or `tux run --attach` to add modules to it)")
            } else {
                e.to_string()
            }
        })?;
    }
    let result = serve(c, kernel, &set, &mut log, &mut agent);
    if !attach {
        match libtux::shutdown() {
            Err(e) if !e.is(Action::Shutdown, libc::ESRCH) => eprintln!("tux: {e}"),
            _ => {}
        }
    }
    if let Some(a) = agent.as_mut() {
        a.stop();
    }
    if let Some(l) = log.as_mut() {
        l.drain();
    }
    result
}

fn serve(
    c: &Config,
    kernel: u32,
    set: &libc::sigset_t,
    log: &mut Option<LogDrain>,
    agent: &mut Option<Supervisor>,
) -> Result<(), String> {
    let mut server = Server::new().map_err(|e| e.to_string())?;
    let registered = register_all(c, &mut server);
    let result = registered.and_then(|()| {
        eprintln!(
            "tux: kernel ABI {}, {} thread(s), modules {:?}",
            libtux::format_version(kernel),
            c.threads,
            server.prefixes()
        );
        run_threads(c, &server, set, log, agent)
    });
    if let Err(e) = server.unregister_all() {
        eprintln!("tux: {e}");
    }
    result
}

fn register_all(c: &Config, server: &mut Server) -> Result<(), String> {
    for m in &c.modules {
        let module: Arc<dyn libtux::Module> = match m.kind {
            Kind::Hello => Arc::new(modules::Hello),
            Kind::Json => Arc::new(modules::Json::default()),
            Kind::Redirect => Arc::new(modules::Redirect),
        };
        server
            .register_arc(&m.prefix, module)
            .map_err(|e| format!("module {}: {e}", m.prefix))?;
    }
    if let Some(g) = &c.cgi {
        let mut cgi = CgiModule::new(&g.prefix, &g.root);
        cgi.uid = g.uid;
        cgi.gid = g.gid;
        cgi.timeout = g.timeout;
        cgi.max_output = g.max_output;
        cgi.server_port = c.port.unwrap_or(80);
        server
            .register(&g.prefix, cgi)
            .map_err(|e| format!("cgi {}: {e}", g.prefix))?;
    }
    Ok(())
}

fn run_threads(
    c: &Config,
    server: &Server,
    set: &libc::sigset_t,
    log: &mut Option<LogDrain>,
    agent: &mut Option<Supervisor>,
) -> Result<(), String> {
    let stopper = server.stopper();
    std::thread::scope(|s| {
        let threads = c.threads;
        let h = s.spawn(move || server.run(threads));
        loop {
            if let Some(l) = log.as_mut() {
                l.drain();
            }
            if h.is_finished() {
                break;
            }
            if let Some(a) = agent.as_mut() {
                a.poll();
            }
            let ts = libc::timespec {
                tv_sec: 1,
                tv_nsec: 0,
            };
            // SAFETY: `set` and `ts` are valid for the call; no siginfo wanted.
            let sig = unsafe { libc::sigtimedwait(set, std::ptr::null_mut(), &ts) };
            match sig {
                libc::SIGHUP => {
                    if let Some(l) = log.as_mut() {
                        l.drain();
                        l.reopen();
                    }
                    if let Some(a) = agent.as_ref() {
                        a.reload();
                    }
                }
                libc::SIGINT | libc::SIGTERM => {
                    stopper.stop();
                    break;
                }
                _ => {} // timeout or EINTR
            }
        }
        // After stop(), the threads return within one EVENTLOOP wake-up.
        match h.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(Error::Panic.to_string()),
        }
    })
}

fn read_sysctl(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{SYSCTL_DIR}/{name}"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Where the running server listens: the `listening` line of
/// /proc/net/tux/stats (the bound address, after any fallback from `[::]` to
/// `0.0.0.0`), else what the `listen` and `port` sysctls say.
fn listening() -> String {
    let stats = std::fs::read_to_string(PROC_STATS).unwrap_or_default();
    if let Some(addr) = stats.lines().find_map(|l| l.strip_prefix("listening ")) {
        return addr.trim().to_string();
    }
    let port = read_sysctl("port").unwrap_or_default();
    let listen = read_sysctl("listen").unwrap_or_default();
    if listen.contains(':') {
        format!("[{listen}]:{port}")
    } else {
        format!("{listen}:{port}")
    }
}

/// `tux status`: exit 0 when TUX is running, 3 when not, 1 without tux(2).
/// With `[https]` in the configuration (or an agent pid file at the
/// default place), a last line says whether `tux tlsd` runs.
pub fn status(config_path: &Path) -> ExitCode {
    let code = status_tux();
    let https = std::fs::read_to_string(config_path)
        .ok()
        .and_then(|t| Config::parse(&t).ok())
        .and_then(|c| c.https);
    let pid_file = match &https {
        Some(h) => h.pid_file.clone(),
        None => crate::config::DEFAULT_TLSD_PID_FILE.into(),
    };
    if https.is_some() || pid_file.exists() {
        println!("{}", crate::tlsd::agent::status_line(&pid_file));
    }
    code
}

fn status_tux() -> ExitCode {
    match libtux::query_version() {
        Ok(v) => {
            let compat = if libtux::check_version(v).is_ok() {
                "compatible"
            } else {
                "INCOMPATIBLE"
            };
            println!(
                "tux(2): ABI {} ({compat} with this tool's {})",
                libtux::format_version(v),
                libtux::format_version(libtux::abi_version())
            );
        }
        Err(e) => {
            eprintln!("tux: {e}");
            return ExitCode::FAILURE;
        }
    }
    match read_sysctl("running").as_deref() {
        Some("1") => {
            let root = read_sysctl("documentroot").unwrap_or_default();
            println!("running: {}, documentroot {root}", listening());
            ExitCode::SUCCESS
        }
        Some(_) => {
            println!("stopped");
            ExitCode::from(3)
        }
        None if settings_here().is_err() => {
            println!("unknown: {NOT_THIS_NAMESPACE}");
            ExitCode::FAILURE
        }
        None => {
            println!("unknown ({SYSCTL_DIR}/running unreadable)");
            ExitCode::FAILURE
        }
    }
}

/// `tux stats`.
pub fn stats() -> Result<(), String> {
    let s = std::fs::read_to_string(PROC_STATS).map_err(|e| format!("{PROC_STATS}: {e}"))?;
    print!("{s}");
    Ok(())
}

/// `tux stop`.
pub fn stop() -> Result<(), String> {
    libtux::shutdown().map_err(|e| e.to_string())
}

/// `tux version`.
pub fn version() {
    println!(
        "tux {} (libtux ABI {})",
        env!("CARGO_PKG_VERSION"),
        libtux::format_version(libtux::abi_version())
    );
    match libtux::query_version() {
        Ok(v) => println!("kernel tux(2) ABI {}", libtux::format_version(v)),
        Err(e) => println!("kernel: {e}"),
    }
}
