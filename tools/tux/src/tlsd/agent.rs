// SPDX-License-Identifier: GPL-2.0

//! The `tux run` side of the agent: start `tux tlsd -c FILE` as a child,
//! restart it with a backoff when it dies, stop it when `run` ends; and the
//! pid-file check behind `tux status`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long `start` waits for the agent's pid file (it is written once the
/// agent has joined the `tlshd` group).
const READY_WAIT: Duration = Duration::from_secs(5);
/// First restart delay; doubles up to `MAX_BACKOFF`, back to the first
/// after a run of `STABLE` or longer.
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const STABLE: Duration = Duration::from_secs(60);

/// The running agent, owned by `tux run`. Dropping it stops the child.
#[derive(Debug)]
pub struct Supervisor {
    config_path: PathBuf,
    pid_file: PathBuf,
    stop_wait: Duration,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    restart_at: Option<Instant>,
}

fn spawn(config_path: &Path) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("tlsd: own executable: {e}"))?;
    Command::new(&exe)
        .arg("-c")
        .arg(config_path)
        .arg("tlsd")
        .spawn()
        .map_err(|e| format!("tlsd: starting {} tlsd: {e}", exe.display()))
}

fn signal(child: &Child, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on our own, not yet reaped, child.
        unsafe { libc::kill(pid, sig) };
    }
}

impl Supervisor {
    /// Starts the agent and waits until it serves (its pid file names it).
    /// Fails if it exits first or does not get there in time.
    pub fn start(
        config_path: &Path,
        pid_file: &Path,
        handshake_timeout: Duration,
    ) -> Result<Supervisor, String> {
        let mut s = Supervisor {
            config_path: config_path.to_path_buf(),
            pid_file: pid_file.to_path_buf(),
            stop_wait: handshake_timeout + Duration::from_secs(2),
            child: Some(spawn(config_path)?),
            started: Instant::now(),
            backoff: MIN_BACKOFF,
            restart_at: None,
        };
        let deadline = Instant::now() + READY_WAIT;
        while Instant::now() < deadline {
            let Some(child) = s.child.as_mut() else { break };
            if let Ok(Some(st)) = child.try_wait() {
                s.child = None;
                return Err(format!(
                    "tlsd exited at start ({st}); its error is above. HTTPS needs it"
                ));
            }
            if pid_of(&s.pid_file) == Some(child.id()) {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "tlsd did not write {} within {}s",
            s.pid_file.display(),
            READY_WAIT.as_secs()
        ))
    }

    /// Called about once a second: reaps a dead agent and restarts it when
    /// its backoff has passed.
    pub fn poll(&mut self) {
        if let Some(child) = self.child.as_mut() {
            match child.try_wait() {
                Ok(None) => return,
                Ok(Some(st)) => {
                    if self.started.elapsed() >= STABLE {
                        self.backoff = MIN_BACKOFF;
                    }
                    eprintln!(
                        "tux: tlsd exited ({st}); restarting in {}s",
                        self.backoff.as_secs()
                    );
                    self.child = None;
                    self.restart_at = Some(Instant::now() + self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => {
                    eprintln!("tux: tlsd: wait: {e}");
                    return;
                }
            }
        }
        if self.restart_at.is_some_and(|t| Instant::now() >= t) {
            self.restart_at = None;
            match spawn(&self.config_path) {
                Ok(c) => {
                    self.child = Some(c);
                    self.started = Instant::now();
                }
                Err(e) => {
                    eprintln!("tux: {e}; retrying in {}s", self.backoff.as_secs());
                    self.restart_at = Some(Instant::now() + self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// SIGHUP: the agent reloads its certificates.
    pub fn reload(&self) {
        if let Some(c) = &self.child {
            signal(c, libc::SIGHUP);
        }
    }

    /// SIGTERM, then SIGKILL if the handshakes in flight outlast their
    /// timeout.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + self.stop_wait;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("tux: tlsd did not stop; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pid in a pid file.
pub fn pid_of(pid_file: &Path) -> Option<u32> {
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Whether `pid` is a live `tux tlsd` (not a pid reused by another
/// program): its argv[0] is named `tux` and an argument is `tlsd`.
pub fn is_agent(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = cmdline.split(|&b| b == 0);
    let argv0 = args.next().unwrap_or(&[]);
    let name = argv0.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
    name == b"tux" && args.any(|a| a == b"tlsd")
}

/// `tux status`'s line about the agent, from its pid file.
pub fn status_line(pid_file: &Path) -> String {
    match pid_of(pid_file) {
        Some(pid) if is_agent(pid) => format!("tlsd: running, pid {pid}"),
        Some(pid) => format!(
            "tlsd: not running (stale pid file {}: pid {pid})",
            pid_file.display()
        ),
        None => format!("tlsd: not running (no pid file {})", pid_file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::process::CommandExt;

    #[test]
    fn status_from_pid_files() {
        let dir = crate::tlsd::certs::testcerts::tempdir("status");
        let f = dir.join("tlsd.pid");
        assert!(status_line(&f).starts_with("tlsd: not running (no pid file"));
        // A live process that is no agent: its pid is "stale".
        let mut other = Command::new("sleep")
            .arg("30")
            .arg0("tlsd")
            .spawn()
            .unwrap();
        std::fs::write(&f, format!("{}\n", other.id())).unwrap();
        assert_eq!(pid_of(&f), Some(other.id()));
        assert!(
            status_line(&f).contains("stale pid file"),
            "{}",
            status_line(&f)
        );
        // One that looks like `tux -c FILE tlsd`.
        let mut agent = Command::new("sh")
            .arg0("/usr/sbin/tux")
            .args(["-c", "sleep 30", "tlsd"])
            .spawn()
            .unwrap();
        std::fs::write(&f, format!("{}\n", agent.id())).unwrap();
        // exec has happened once /proc shows the new argv.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !is_agent(agent.id()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            status_line(&f),
            format!("tlsd: running, pid {}", agent.id())
        );
        for c in [&mut other, &mut agent] {
            let _ = c.kill();
            let _ = c.wait();
        }
        std::fs::write(&f, "garbage").unwrap();
        assert_eq!(pid_of(&f), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
