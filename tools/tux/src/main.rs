// SPDX-License-Identifier: GPL-2.0

//! `tux`: the TUX daemon and control tool.
//!
//! ```text
//! tux [-c FILE] run [--attach]   configure, start TUX, serve modules, drain the log
//! tux [-c FILE] check            validate the configuration and exit
//! tux [-c FILE] tlsd             the TLS handshake agent for HTTPS
//! tux status | stats | stop | version
//! ```
//!
//! See Documentation/tux/daemon.rst.

mod config;
mod daemon;
mod modules;
mod tlsd;

use config::{Config, DEFAULT_PATH};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: tux [-c FILE] COMMAND
commands:
  run [--attach]  configure TUX from FILE (default /etc/tux.toml), start it, run the
                  modules and CGI, append the access log to log_file; SIGTERM/SIGINT
                  stop everything, SIGHUP reopens log_file. --attach: TUX is already
                  running; only add the modules (no sysctls, no STARTUP/SHUTDOWN).
                  With [https] and a port, also writes https_port and runs
                  `tux tlsd -c FILE` as a child (restarted if it dies; SIGHUP
                  is passed on to it)
  check           validate FILE (and the [https] certificate files) and exit
  tlsd            the TLS handshake agent for TUX's HTTPS port (kernel
                  net/handshake upcall): rustls handshakes, then kTLS.
                  SIGHUP reloads the certificates, SIGUSR1 prints counters,
                  SIGTERM/SIGINT stop; pid in https.pid_file
                  (default /run/tux/tlsd.pid)
  status          whether TUX runs, the kernel's tux(2) version, and tlsd
  stats           print /proc/net/tux/stats
  stop            stop TUX (SHUTDOWN)
  version         print versions";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config_path = PathBuf::from(DEFAULT_PATH);
    let mut cmd = None;
    let mut attach = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" | "--config" => match args.next() {
                Some(p) => config_path = PathBuf::from(p),
                None => return usage("-c needs a file"),
            },
            "--attach" => attach = true,
            "-h" | "--help" | "help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            s if cmd.is_none() && !s.starts_with('-') => cmd = Some(a),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(cmd) = cmd else {
        return usage("no command");
    };
    if attach && cmd != "run" {
        return usage("--attach goes with run");
    }
    let r = match cmd.as_str() {
        "run" => Config::load(&config_path).and_then(|c| daemon::run(&c, &config_path, attach)),
        "tlsd" => tlsd::run(&config_path),
        "check" => Config::load(&config_path).map(|_| println!("{}: ok", config_path.display())),
        "status" => return daemon::status(&config_path),
        "stats" => daemon::stats(),
        "stop" => daemon::stop(),
        "version" => {
            daemon::version();
            Ok(())
        }
        other => return usage(&format!("unknown command {other:?}")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tux: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("tux: {why}\n{USAGE}");
    ExitCode::from(2)
}
