// SPDX-License-Identifier: GPL-2.0

//! Module threads, the event loop and the dispatch of requests to modules.

use crate::admin::{self, ModuleId};
use crate::error::{call, Error, Result};
use crate::request::{Outcome, Request};
use crate::sys::new_req;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tux_abi::{
    Action, TUX_MAX_THREADS, TUX_RETURN_EXIT, TUX_RETURN_SIGNAL, TUX_RETURN_USERSPACE_REQUEST,
};

/// A user module: answers the requests under its prefix.
///
/// `handle` runs on a module thread; several threads may call it at once.
/// It must answer (or postpone, or redirect) the request; if it returns
/// without doing so, or returns an error before anything was sent, the
/// event loop answers with [`Error::http_status`] (500 by default) and
/// closes the connection. A panic is caught and answered with 500.
///
/// ```no_run
/// use libtux::{Module, Outcome, Request, Result};
///
/// struct Hello;
/// impl Module for Hello {
///     fn handle(&self, req: &mut Request) -> Result<Outcome> {
///         req.respond(200, &[("Content-Type", "text/plain")], b"Hello\n")
///     }
/// }
/// ```
pub trait Module: Send + Sync {
    /// Answers one request.
    fn handle(&self, req: &mut Request) -> Result<Outcome>;
}

impl<F> Module for F
where
    F: Fn(&mut Request) -> Result<Outcome> + Send + Sync,
{
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        self(req)
    }
}

/// What the event loop reports to the module's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A request was dispatched.
    Request,
    /// `EVENTLOOP` returned `SIGNAL` (or `EINTR`).
    Signal,
}

/// The calling thread, registered as module thread `nr` (`STARTTHREAD`).
/// Not `Send`: the registration belongs to the thread.
#[derive(Debug)]
pub struct ModuleThread {
    nr: u32,
    exited: bool,
    _thread_bound: PhantomData<*const ()>,
}

/// What one `EVENTLOOP` call brought.
#[derive(Debug)]
pub enum Next {
    /// A request for one of this process's modules.
    Request(Box<Request>),
    /// A signal is pending; look at your flags and call again.
    Signal,
    /// The thread or the server was stopped.
    Exit,
}

impl ModuleThread {
    /// Registers the calling thread as module thread `nr` (below 64).
    pub fn start(nr: u32) -> Result<ModuleThread> {
        if nr >= TUX_MAX_THREADS {
            return Err(Error::Sys {
                action: Action::StartThread,
                errno: crate::Errno(libc::ERANGE),
            });
        }
        admin::start_thread(nr)?;
        Ok(ModuleThread {
            nr,
            exited: false,
            _thread_bound: PhantomData,
        })
    }

    /// The thread number.
    pub fn nr(&self) -> u32 {
        self.nr
    }

    /// Waits for the next event (`EVENTLOOP`).
    pub fn wait(&mut self) -> Result<Next> {
        if self.exited {
            return Ok(Next::Exit);
        }
        let mut blk = new_req();
        blk.thread_nr = self.nr;
        match call(Action::EventLoop, Some(&mut blk)) {
            Ok(TUX_RETURN_USERSPACE_REQUEST) => {
                Ok(Next::Request(Box::new(Request::from_block(blk))))
            }
            Ok(TUX_RETURN_EXIT) => {
                self.exited = true;
                Ok(Next::Exit)
            }
            Ok(TUX_RETURN_SIGNAL) => Ok(Next::Signal),
            Err(e) if e.errno().map(|e| e.0) == Some(libc::EINTR) => Ok(Next::Signal),
            // Unknown non-negative returns (a newer kernel): go round again.
            Ok(_) => Ok(Next::Signal),
            Err(e) => Err(e),
        }
    }

    /// Runs the event loop until `EXIT`, or until a signal finds `stop` set,
    /// handing each request to `dispatch`.
    pub fn run(&mut self, dispatch: &Dispatch, stop: &AtomicBool) -> Result<()> {
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.wait()? {
                Next::Request(mut req) => dispatch.dispatch(&mut req),
                Next::Signal => {}
                Next::Exit => return Ok(()),
            }
        }
    }
}

impl Drop for ModuleThread {
    fn drop(&mut self) {
        if !self.exited {
            // Give the thread number back; failing (already stopped) is fine.
            let _ = admin::stop_thread(self.nr);
        }
    }
}

/// The table from module index to module, shared by the module threads.
#[derive(Clone, Default)]
pub struct Dispatch {
    modules: HashMap<u32, Arc<dyn Module>>,
}

impl core::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dispatch")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl Dispatch {
    /// Routes requests with `module_index == id` to `module`.
    pub fn insert(&mut self, id: ModuleId, module: Arc<dyn Module>) {
        self.modules.insert(id.0, module);
    }

    /// Hands `req` to its module and makes sure it ends: a request the
    /// module left open is answered with an error (or closed, if its
    /// answer had begun).
    pub fn dispatch(&self, req: &mut Request) {
        let result = match self.modules.get(&req.module_index()) {
            Some(m) => {
                catch_unwind(AssertUnwindSafe(|| m.handle(req))).unwrap_or(Err(Error::Panic))
            }
            None => Err(Error::BadName(format!(
                "no module with index {}",
                req.module_index()
            ))),
        };
        if req.is_done() {
            return;
        }
        let status = match &result {
            Err(e) => e.http_status(),
            Ok(_) => 500,
        };
        // Once the head is out, only closing is left; else answer the error.
        let answered = !req.head_sent() && req.respond_error(status).is_ok();
        if !answered && !req.is_done() {
            let _ = req.abort();
        }
    }
}

/// Stops a [`Server`]'s module threads from any thread: sets the stop flag
/// and calls `STOPTHREAD` for each running thread.
#[derive(Clone, Debug)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    running: Arc<Mutex<Vec<u32>>>,
}

impl Stopper {
    /// Stops the server on SIGINT or SIGTERM: blocks both signals in the
    /// calling thread (call it before starting other threads, which inherit
    /// the mask) and takes them in a dedicated thread with `sigwait`, so
    /// that module threads stop through `STOPTHREAD` and the process can
    /// unregister its modules and exit normally.
    pub fn stop_on_signals(self) {
        // SAFETY: plain signal-mask manipulation on a local, initialised set.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            set
        };
        std::thread::spawn(move || {
            let mut sig = 0;
            // SAFETY: `set` is initialised; sigwait writes `sig`.
            unsafe { libc::sigwait(&set, &mut sig) };
            self.stop();
        });
    }

    /// Whether [`Stopper::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Stops every module thread; their event loops return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let running = match self.running.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for nr in running {
            let _ = admin::stop_thread(nr);
        }
    }
}

/// A set of modules served by a set of module threads of this process.
///
/// ```no_run
/// use libtux::{Outcome, Request, Result, Server};
///
/// let mut server = Server::new()?; // refuses an incompatible kernel
/// server.register("/hello", |req: &mut Request| -> Result<Outcome> {
///     req.respond(200, &[("Content-Type", "text/plain")], b"Hello\n")
/// })?;
/// let stopper = server.stopper(); // stopper.stop() from a signal thread
/// server.run(2)?; // blocks until stopped
/// server.unregister_all()?;
/// # Ok::<(), libtux::Error>(())
/// ```
pub struct Server {
    dispatch: Dispatch,
    prefixes: Vec<String>,
    stop: Arc<AtomicBool>,
    running: Arc<Mutex<Vec<u32>>>,
    kernel_version: u32,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("prefixes", &self.prefixes)
            .finish()
    }
}

impl Server {
    /// Checks the kernel's version (refusing an incompatible one).
    pub fn new() -> Result<Server> {
        let kernel_version = admin::check_kernel()?;
        Ok(Server {
            dispatch: Dispatch::default(),
            prefixes: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            running: Arc::new(Mutex::new(Vec::new())),
            kernel_version,
        })
    }

    /// The kernel's packed ABI version.
    pub fn kernel_version(&self) -> u32 {
        self.kernel_version
    }

    /// Registers `module` under `prefix` (`REGISTER_MODULE`).
    pub fn register(&mut self, prefix: &str, module: impl Module + 'static) -> Result<ModuleId> {
        self.register_arc(prefix, Arc::new(module))
    }

    /// Registers a shared module under `prefix`.
    pub fn register_arc(&mut self, prefix: &str, module: Arc<dyn Module>) -> Result<ModuleId> {
        let id = admin::register_module(prefix)?;
        self.dispatch.insert(id, module);
        self.prefixes.push(prefix.to_string());
        Ok(id)
    }

    /// The registered prefixes.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// A handle that stops [`Server::run`] from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stop: self.stop.clone(),
            running: self.running.clone(),
        }
    }

    /// Runs `threads` module threads (numbers `0..threads`) until stopped
    /// (by a [`Stopper`], `SHUTDOWN`, or `STOPTHREAD`). Returns the first
    /// error of any thread (after all have ended).
    pub fn run(&self, threads: u32) -> Result<()> {
        let threads = threads.clamp(1, TUX_MAX_THREADS);
        let mut handles = Vec::new();
        for nr in 0..threads {
            let dispatch = self.dispatch.clone();
            let stop = self.stop.clone();
            let running = self.running.clone();
            let stopper = self.stopper();
            let h = std::thread::Builder::new()
                .name(format!("tux-module/{nr}"))
                .spawn(move || -> Result<()> {
                    // A thread that cannot start stops the others: run()
                    // returns its error instead of serving short-handed.
                    let mut t = ModuleThread::start(nr).inspect_err(|_| stopper.stop())?;
                    {
                        let mut g = running.lock().unwrap_or_else(|p| p.into_inner());
                        g.push(nr);
                    }
                    t.run(&dispatch, &stop)
                });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    self.stopper().stop();
                    let _ = join_all(handles);
                    return Err(Error::Io(e));
                }
            }
        }
        let r = join_all(handles);
        if r.is_err() {
            self.stopper().stop();
        }
        r
    }

    /// Unregisters every module this server registered.
    pub fn unregister_all(&mut self) -> Result<()> {
        let mut first = Ok(());
        for p in self.prefixes.drain(..) {
            if let Err(e) = admin::unregister_module(&p) {
                // Already gone (e.g. after SHUTDOWN) is fine.
                if !e.is(Action::UnregisterModule, libc::ENOENT) && first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

fn join_all(handles: Vec<std::thread::JoinHandle<Result<()>>>) -> Result<()> {
    let mut first = Ok(());
    for h in handles {
        let r = h.join().unwrap_or(Err(Error::Panic));
        if first.is_ok() {
            first = r;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_numbers_are_checked_before_the_kernel() {
        let e = ModuleThread::start(64).unwrap_err();
        assert!(e.is(Action::StartThread, libc::ERANGE));
    }

    #[test]
    fn closures_are_modules() {
        fn takes(_: &dyn Module) {}
        takes(&|r: &mut Request| r.respond(204, &[], b""));
        let mut d = Dispatch::default();
        d.insert(
            ModuleId(3),
            Arc::new(|r: &mut Request| r.respond(204, &[], b"")),
        );
        assert_eq!(d.modules.len(), 1);
    }

    #[test]
    fn stopper_sets_the_flag() {
        let s = Stopper {
            stop: Arc::new(AtomicBool::new(false)),
            running: Arc::new(Mutex::new(Vec::new())),
        };
        assert!(!s.is_stopped());
        s.stop();
        assert!(s.is_stopped());
    }
}
