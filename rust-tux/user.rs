// SPDX-License-Identifier: GPL-2.0

//! Requests answered by userspace modules through `tux(2)`.
//!
//! A process registers a module for a URL prefix (`REGISTER_MODULE`) and
//! makes some of its threads module threads (`STARTTHREAD`), which then wait
//! in `EVENTLOOP`. A connection whose request falls under the prefix stops
//! serving itself and is queued here; one of the waiting threads takes it
//! and owns it until `FINISH_REQ` (or `POSTPONE_REQ`, `REDIRECT_REQ`).
//!
//! The registry only tracks who owns which request. The request's bytes and
//! socket stay with the connection (`conn::user`), so the registry lock is
//! never held while a connection's lock is, in either order.
//!
//! Nothing here waits on userspace: a request whose owner exits or lets the
//! module timeout pass is answered by the connection (503/504) and closed;
//! static requests never queue behind module requests.

use crate::{
    abi,
    conn::Connection,
    http::{
        mime,
        parser::{Method, Version},
        plan,
        status::Status,
    },
};
use core::net::IpAddr;
use kernel::{
    bindings, new_condvar, new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, CondVar, Mutex,
    },
    task::{Pid, Task},
};

/// What the event loop tells a module about a request, fixed when it is queued.
#[derive(Clone, Copy)]
pub(crate) struct Info {
    pub(crate) method: u32,
    pub(crate) version: u32,
    pub(crate) keep_alive: bool,
    pub(crate) headers_len: u64,
    pub(crate) body_len: u64,
    pub(crate) peer: IpAddr,
    pub(crate) peer_port: u16,
}

/// A registered module.
struct Module {
    index: u32,
    /// The route as registered: `/prefix`, `*.ext` or a module name.
    prefix: KVec<u8>,
    /// The process that registered it; only its threads get its requests.
    tgid: Pid,
    owner: ARef<Task>,
}

/// A module thread.
struct Thread {
    nr: u32,
    task: ARef<Task>,
    tgid: Pid,
    stop: bool,
}

/// Where a module request is.
enum Holder {
    /// Waiting for a module thread of the module's process.
    Queued,
    /// Returned by `EVENTLOOP` to this thread.
    Held(ARef<Task>),
    /// Parked by `POSTPONE_REQ` until `CONTINUE_REQ`.
    Postponed,
}

struct Entry {
    id: u64,
    conn: Arc<Connection>,
    module: u32,
    tgid: Pid,
    holder: Holder,
    info: Info,
    event: u32,
    private: u64,
}

/// A MIME type registered with `REGISTER_MIMETYPE`.
pub(crate) struct MimeType {
    pub(crate) ext: KVec<u8>,
    pub(crate) ty: KVec<u8>,
}

/// Most MIME types registered at once.
const MAX_MIME_TYPES: usize = 64;

struct State {
    next_id: u64,
    mimes: KVec<MimeType>,
    next_module: u32,
    modules: KVec<Module>,
    threads: KVec<Thread>,
    entries: KVec<Entry>,
}

/// The registry of modules, module threads and module requests.
#[pin_data]
pub(crate) struct Registry {
    #[pin]
    state: Mutex<State>,
    /// Module threads wait here for requests.
    #[pin]
    wake: CondVar,
    /// Number of registered modules: the static path skips the lock when 0.
    modules: Atomic<u32>,
}

impl Registry {
    /// An empty registry, for a namespace's TUX.
    pub(crate) fn new() -> Result<Arc<Registry>> {
        Arc::pin_init(
            pin_init!(Registry {
                state <- new_mutex!(State {
                    next_id: 1,
                    mimes: KVec::new(),
                    next_module: 0,
                    modules: KVec::new(),
                    threads: KVec::new(),
                    entries: KVec::new(),
                }),
                wake <- new_condvar!("tux::user::wake"),
                modules: Atomic::new(0),
            }),
            GFP_KERNEL,
        )
    }
}

/// The (global) thread id of `task`.
fn pid_of(task: &Task) -> Pid {
    // SAFETY: `task` is a valid task for the duration of the call.
    unsafe { bindings::tux_task_pid(task.as_ptr()) }
}

/// The (global) process id of `task`.
fn tgid_of(task: &Task) -> Pid {
    // SAFETY: `task` is a valid task for the duration of the call.
    unsafe { bindings::tux_task_tgid(task.as_ptr()) }
}

/// The thread group leader of `task`.
fn leader_of(task: &Task) -> ARef<Task> {
    // SAFETY: `task` is valid, so is its group leader, which outlives every thread of
    // the group; `Task` is a transparent wrapper of `task_struct`, and the `ARef` takes
    // a reference of its own.
    unsafe { &*bindings::tux_task_leader(task.as_ptr()).cast::<Task>() }.into()
}

/// A kernel copy of `bytes`.
pub(crate) fn owned(bytes: &[u8]) -> Result<KVec<u8>> {
    let mut v = KVec::with_capacity(bytes.len(), GFP_KERNEL)?;
    v.extend_from_slice(bytes, GFP_KERNEL)?;
    Ok(v)
}

/// Whether `task` is exiting.
fn exiting(task: &Task) -> bool {
    // SAFETY: `task` is a valid task for the duration of the call.
    unsafe { bindings::tux_task_exiting(task.as_ptr()) }
}

/// What `EVENTLOOP` returned.
pub(crate) enum Event {
    /// A request, with the module-owned state it had.
    Request {
        id: u64,
        module: u32,
        info: Info,
        event: u32,
        private: u64,
    },
    /// The thread was stopped.
    Exit,
    /// A signal is pending.
    Signal,
}

impl Registry {
    /// Whether any module is registered (without taking the lock).
    pub(crate) fn has_modules(&self) -> bool {
        self.modules.load(Relaxed) != 0
    }

    /// The module whose route covers `path` (resolved, without the leading `/`), and
    /// whether that route is a classic module name (the caller checks that the file
    /// exists).
    pub(crate) fn route(&self, path: &[u8]) -> Option<(u32, bool)> {
        if self.modules.load(Relaxed) == 0 {
            return None;
        }
        let st = self.state.lock();
        st.modules
            .iter()
            .find(|m| plan::prefix_covers(&m.prefix, path))
            .map(|m| (m.index, plan::is_module_file(&m.prefix)))
    }

    /// Registers a module for `prefix` (starting with `/`) owned by the current process.
    pub(crate) fn register(&self, prefix: &[u8], current: &Task) -> Result<u32> {
        let prefix = plan::module_prefix(prefix).ok_or(EINVAL)?;
        let mut st = self.state.lock();
        if st.modules.iter().any(|m| m.prefix.as_slice() == prefix) {
            return Err(EEXIST);
        }
        if st.modules.len() >= abi::TUX_MAX_MODULES as usize {
            return Err(ENOSPC);
        }
        let name = owned(prefix)?;
        let index = st.next_module;
        let leader = leader_of(current);
        st.modules.push(
            Module {
                index,
                prefix: name,
                tgid: tgid_of(current),
                owner: leader,
            },
            GFP_KERNEL,
        )?;
        st.next_module = index.wrapping_add(1);
        self.modules.store(st.modules.len() as u32, Relaxed);
        Ok(index)
    }

    /// Unregisters the module for `prefix`; its queued requests are aborted.
    pub(crate) fn unregister(&self, prefix: &[u8]) -> Result {
        let prefix = plan::module_prefix(prefix).ok_or(EINVAL)?;
        let mut aborted = KVec::new();
        {
            let mut st = self.state.lock();
            let i = st
                .modules
                .iter()
                .position(|m| m.prefix.as_slice() == prefix)
                .ok_or(ENOENT)?;
            let m = st.modules.remove(i).map_err(|_| ENOENT)?;
            self.modules.store(st.modules.len() as u32, Relaxed);
            take_entries(&mut st, |e| e.module == m.index, &mut aborted);
        }
        abort_all(aborted);
        Ok(())
    }

    /// Maps the file extension `ext` to the content type `ty` (replacing an earlier
    /// mapping); servers started from now on use it for static files.
    pub(crate) fn register_mimetype(&self, ext: &[u8], ty: &[u8]) -> Result {
        if !mime::valid_extension(ext) || !mime::valid_type(ty) {
            return Err(EINVAL);
        }
        let e = owned(ext)?;
        let t = owned(ty)?;
        let mut st = self.state.lock();
        if let Some(m) = st
            .mimes
            .iter_mut()
            .find(|m| m.ext.eq_ignore_ascii_case(ext))
        {
            m.ty = t;
            return Ok(());
        }
        if st.mimes.len() >= MAX_MIME_TYPES {
            return Err(ENOSPC);
        }
        st.mimes.push(MimeType { ext: e, ty: t }, GFP_KERNEL)?;
        Ok(())
    }

    /// A copy of the registered MIME types, for a server that starts.
    pub(crate) fn mime_types(&self) -> Result<KVec<MimeType>> {
        let st = self.state.lock();
        let mut out = KVec::with_capacity(st.mimes.len(), GFP_KERNEL)?;
        for m in st.mimes.iter() {
            out.push(
                MimeType {
                    ext: owned(&m.ext)?,
                    ty: owned(&m.ty)?,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(out)
    }

    /// Makes the current thread module thread `nr` of its process.
    pub(crate) fn start_thread(&self, nr: u32, current: &Task) -> Result {
        if nr >= abi::TUX_MAX_THREADS {
            return Err(ERANGE);
        }
        let mut st = self.state.lock();
        let tgid = tgid_of(current);
        let pid = pid_of(current);
        if st
            .threads
            .iter()
            .any(|t| t.tgid == tgid && (t.nr == nr || pid_of(&t.task) == pid) && !t.stop)
        {
            return Err(EBUSY);
        }
        // A thread stopped while outside EVENTLOOP, or a number whose thread is gone.
        st.threads
            .retain(|t| !(t.tgid == tgid && (t.nr == nr || (t.stop && pid_of(&t.task) == pid))));
        if st.threads.len() >= (abi::TUX_MAX_THREADS as usize).saturating_mul(4) {
            return Err(ENOSPC);
        }
        st.threads.push(
            Thread {
                nr,
                task: current.into(),
                tgid,
                stop: false,
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }

    /// Stops module thread `nr` of the current process: its `EVENTLOOP` returns `EXIT`.
    pub(crate) fn stop_thread(&self, nr: u32, current: &Task) -> Result {
        let mut st = self.state.lock();
        let tgid = tgid_of(current);
        let t = st
            .threads
            .iter_mut()
            .find(|t| t.tgid == tgid && t.nr == nr && !t.stop)
            .ok_or(ESRCH)?;
        t.stop = true;
        self.wake.notify_all();
        Ok(())
    }

    /// Waits for a request for the current thread's process.
    pub(crate) fn event_loop(&self, current: &Task) -> Result<Event> {
        let pid = pid_of(current);
        let tgid = tgid_of(current);
        let mut st = self.state.lock();
        loop {
            let Some(ti) = st.threads.iter().position(|t| pid_of(&t.task) == pid) else {
                return Err(EINVAL);
            };
            if st.threads.get(ti).is_some_and(|t| t.stop) {
                let _ = st.threads.remove(ti);
                return Ok(Event::Exit);
            }
            if let Some(e) = st
                .entries
                .iter_mut()
                .find(|e| e.tgid == tgid && matches!(e.holder, Holder::Queued))
            {
                e.holder = Holder::Held(current.into());
                return Ok(Event::Request {
                    id: e.id,
                    module: e.module,
                    info: e.info,
                    event: e.event,
                    private: e.private,
                });
            }
            if self.wake.wait_interruptible(&mut st) {
                return Ok(Event::Signal);
            }
        }
    }

    /// Queues `conn`'s request for `module`. Fails if the module is gone.
    pub(crate) fn enqueue(&self, conn: Arc<Connection>, module: u32, info: Info) -> Result<u64> {
        let mut st = self.state.lock();
        let tgid = st
            .modules
            .iter()
            .find(|m| m.index == module)
            .map(|m| m.tgid)
            .ok_or(ENOENT)?;
        let id = st.next_id;
        st.entries.push(
            Entry {
                id,
                conn,
                module,
                tgid,
                holder: Holder::Queued,
                info,
                event: 0,
                private: 0,
            },
            GFP_KERNEL,
        )?;
        st.next_id = id.wrapping_add(1);
        self.wake.notify_all();
        Ok(id)
    }

    /// The connection of request `id`, if the current process holds it.
    pub(crate) fn held(&self, id: u64, current: &Task) -> Result<Arc<Connection>> {
        let st = self.state.lock();
        let tgid = tgid_of(current);
        st.entries
            .iter()
            .find(|e| e.id == id && e.tgid == tgid && !matches!(e.holder, Holder::Queued))
            .map(|e| e.conn.clone())
            .ok_or(ENOENT)
    }

    /// Parks request `id` (held by the current process), keeping the module-owned
    /// `event` and `private` for the `EVENTLOOP` that returns it after `CONTINUE_REQ`.
    pub(crate) fn postpone(&self, id: u64, event: u32, private: u64, current: &Task) -> Result {
        let mut st = self.state.lock();
        let tgid = tgid_of(current);
        let e = st
            .entries
            .iter_mut()
            .find(|e| e.id == id && e.tgid == tgid)
            .ok_or(ENOENT)?;
        match e.holder {
            Holder::Held(_) => {
                e.holder = Holder::Postponed;
                e.event = event;
                e.private = private;
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }

    /// Queues parked request `id` again, for any module thread of its process.
    pub(crate) fn resume(&self, id: u64, current: &Task) -> Result {
        let mut st = self.state.lock();
        let tgid = tgid_of(current);
        let e = st
            .entries
            .iter_mut()
            .find(|e| e.id == id && e.tgid == tgid)
            .ok_or(ENOENT)?;
        if !matches!(e.holder, Holder::Postponed) {
            return Err(EINVAL);
        }
        e.holder = Holder::Queued;
        self.wake.notify_all();
        Ok(())
    }

    /// Forgets request `id` held by the current process; returns its connection.
    pub(crate) fn take(&self, id: u64, current: &Task) -> Result<(Arc<Connection>, Info)> {
        let mut st = self.state.lock();
        let tgid = tgid_of(current);
        let i = st
            .entries
            .iter()
            .position(|e| e.id == id && e.tgid == tgid && !matches!(e.holder, Holder::Queued))
            .ok_or(ENOENT)?;
        st.entries
            .remove(i)
            .map(|e| (e.conn, e.info))
            .map_err(|_| ENOENT)
    }

    /// Forgets whatever request of `conn` is registered (the connection is closing).
    pub(crate) fn forget(&self, conn: &Connection) {
        let mut st = self.state.lock();
        st.entries
            .retain(|e| !core::ptr::eq::<Connection>(&*e.conn, conn));
    }

    /// Drops threads, modules and requests of exiting processes; called every second.
    pub(crate) fn reap(&self) {
        let mut aborted = KVec::new();
        {
            let mut st = self.state.lock();
            st.threads.retain(|t| !exiting(&t.task));
            let before = st.modules.len();
            let mut gone = KVec::<u32>::new();
            for m in st.modules.iter() {
                if exiting(&m.owner) {
                    let _ = gone.push(m.index, GFP_KERNEL);
                }
            }
            st.modules.retain(|m| !exiting(&m.owner));
            if st.modules.len() != before {
                self.modules.store(st.modules.len() as u32, Relaxed);
            }
            take_entries(
                &mut st,
                |e| match &e.holder {
                    Holder::Held(t) => exiting(t),
                    _ => gone.contains(&e.module),
                },
                &mut aborted,
            );
        }
        abort_all(aborted);
    }

    /// Stops every module thread, unregisters every module and aborts every request.
    pub(crate) fn shutdown(&self) {
        let mut aborted = KVec::new();
        {
            let mut st = self.state.lock();
            for t in st.threads.iter_mut() {
                t.stop = true;
            }
            st.modules.clear();
            self.modules.store(0, Relaxed);
            take_entries(&mut st, |_| true, &mut aborted);
            self.wake.notify_all();
        }
        abort_all(aborted);
    }
}

/// Moves the entries matching `pred` into `out` (what does not fit is aborted later by
/// the connection timeout).
fn take_entries(st: &mut State, pred: impl Fn(&Entry) -> bool, out: &mut KVec<Arc<Connection>>) {
    let mut i = 0;
    while i < st.entries.len() {
        if st.entries.get(i).is_some_and(&pred) {
            if let Ok(e) = st.entries.remove(i) {
                let _ = out.push(e.conn, GFP_KERNEL);
            }
        } else {
            i = i.saturating_add(1);
        }
    }
}

/// Answers and closes the connections of aborted requests (outside the registry lock).
fn abort_all(conns: KVec<Arc<Connection>>) {
    for c in conns.iter() {
        c.user_abort(Status::ServiceUnavailable);
    }
}

/// `tux(2)`'s code for a method.
pub(crate) fn method_code(m: &Method<'_>) -> u32 {
    match m {
        Method::Get => abi::method::GET,
        Method::Head => abi::method::HEAD,
        Method::Post => abi::method::POST,
        Method::Put => abi::method::PUT,
        Method::Delete => abi::method::DELETE,
        Method::Options => abi::method::OPTIONS,
        Method::Patch => abi::method::PATCH,
        _ => abi::method::OTHER,
    }
}

/// `tux(2)`'s code for a version.
pub(crate) fn version_code(v: Version) -> u32 {
    match v {
        Version::Http10 => abi::http_version::HTTP_1_0,
        _ => abi::http_version::HTTP_1_1,
    }
}
