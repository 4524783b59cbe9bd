// SPDX-License-Identifier: GPL-2.0

//! `tux`: the TUX daemon and control tool.
//!
//! ```text
//! tux [-c FILE] run [--attach]   configure, start TUX, serve modules, drain the log
//! tux [-c FILE] check            validate the configuration and exit
//! tux status | stats | stop | version
//! ```
//!
//! See Documentation/tux/daemon.rst.

mod config;
mod daemon;
mod modules;

use config::{Config, DEFAULT_PATH};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: tux [-c FILE] COMMAND
commands:
  run [--attach]  configure TUX from FILE (default /etc/tux.toml), start it, run the
                  modules and CGI, append the access log to log_file; SIGTERM/SIGINT
                  stop everything, SIGHUP reopens log_file. --attach: TUX is already
                  running; only add the modules (no sysctls, no STARTUP/SHUTDOWN)
  check           validate FILE and exit
  status          whether TUX runs, and the kernel's tux(2) version
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
        "run" => Config::load(&config_path).and_then(|c| daemon::run(&c, attach)),
        "check" => Config::load(&config_path).map(|_| println!("{}: ok", config_path.display())),
        "status" => return daemon::status(),
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
