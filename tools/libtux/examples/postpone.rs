// SPDX-License-Identifier: GPL-2.0

//! Postponing: each request to `/slow` is parked (`POSTPONE_REQ`) and
//! handed to a worker thread, which continues it (`CONTINUE_REQ`) after
//! a short delay; the event loop then gets it again, with `event` = 1, and
//! answers. The module thread is never blocked by the delay.
//!
//! ```text
//! postpone [DELAY_MS] [THREADS]   # then: curl http://host/slow
//! ```

use libtux::{Module, Outcome, Postponed, Request, Result, Server};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FRESH: u32 = 0;
const RESUMED: u32 = 1;

struct Slow {
    to_worker: Mutex<Sender<(Instant, Postponed)>>,
}

impl Module for Slow {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        match req.event() {
            FRESH => {
                req.set_event(RESUMED);
                let parked = req.postpone()?;
                let sent = self
                    .to_worker
                    .lock()
                    .map(|tx| tx.send((Instant::now(), parked)).is_ok())
                    .unwrap_or(false);
                if !sent {
                    eprintln!("postpone: worker gone; the kernel will time the request out");
                }
                Ok(Outcome::Postponed)
            }
            _ => req.respond(
                200,
                &[("Content-Type", "text/plain")],
                b"continued by a worker thread\n",
            ),
        }
    }
}

fn main() {
    let delay = Duration::from_millis(
        std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(100),
    );
    let threads = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    // Block SIGINT/SIGTERM before any thread exists, so that every thread
    // (the worker too) inherits the mask and only the signal thread takes them.
    let set = block_stop_signals();
    let (tx, rx) = channel::<(Instant, Postponed)>();
    std::thread::spawn(move || {
        for (since, parked) in rx {
            std::thread::sleep(delay.saturating_sub(since.elapsed()));
            if let Err(e) = parked.continue_() {
                eprintln!("postpone: {e}");
            }
        }
    });
    let run = || -> Result<()> {
        let mut server = Server::new()?;
        server.register(
            "/slow",
            Slow {
                to_worker: Mutex::new(tx),
            },
        )?;
        stop_on_signals(set, server.stopper());
        let r = server.run(threads);
        server.unregister_all()?;
        r
    };
    if let Err(e) = run() {
        eprintln!("postpone: {e}");
        std::process::exit(1);
    }
}

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it
/// creates later); returns the set.
fn block_stop_signals() -> libc::sigset_t {
    // SAFETY: plain signal-mask manipulation on a local, initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Stops the server on SIGINT/SIGTERM, taken by a dedicated thread with
/// sigwait: the modules are unregistered and the process exits 0.
fn stop_on_signals(set: libc::sigset_t, stopper: libtux::Stopper) {
    std::thread::spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` is initialised; sigwait writes `sig`.
        unsafe { libc::sigwait(&set, &mut sig) };
        stopper.stop();
    });
}
