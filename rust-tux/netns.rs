// SPDX-License-Identifier: GPL-2.0

//! One TUX per network namespace: its server, counters, access log and module
//! registry.
//!
//! `control.c` keeps each namespace's settings (`/proc/sys/net/tux/`) and calls in
//! with the namespace; `tux(2)` acts on the caller's. An [`Instance`] is made the
//! first time a namespace uses TUX and goes when the namespace does
//! ([`tux_net_release`], from the namespace's exit).
//!
//! A running server holds a reference to its namespace (its listener, see
//! `TcpListener::bind`), so the namespace cannot go while it runs: once no task,
//! namespace file or bind mount refers to the namespace any more, the server's sweeper
//! sees it ([`Namespace::is_active`]) and has the server stopped ([`Instance::reap`]),
//! which lets the namespace go.

use crate::{log::Log, server::Server, stats::Stats, user::Registry};
use kernel::{
    bindings,
    net::namespace::Namespace,
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    workqueue::{self, impl_has_work, new_work, Work, WorkItem},
};

/// TUX in one network namespace.
#[pin_data]
pub(crate) struct Instance {
    /// The namespace's address: its identity while it lives, never dereferenced (an
    /// instance holds no reference to its namespace, or the namespace could never go).
    net: usize,
    /// Its counters (`/proc/net/tux/stats`).
    pub(crate) stats: Stats,
    /// Its access log (`/proc/net/tux/log`).
    #[pin]
    pub(crate) log: Log,
    /// Its userspace modules and their requests.
    pub(crate) user: Arc<Registry>,
    /// Its server, when one runs.
    #[pin]
    pub(crate) server: Mutex<Option<Server>>,
    /// Stops the server of a namespace nobody can enter any more.
    #[pin]
    reap_work: Work<Instance>,
}

impl_has_work! {
    impl HasWork<Self> for Instance { self.reap_work }
}

impl WorkItem for Instance {
    type Pointer = Arc<Instance>;

    fn run(this: Arc<Instance>) {
        let stopped = {
            let mut slot = this.server.lock();
            match slot.as_ref() {
                // Check again: the server may have been replaced meanwhile.
                Some(s) if !s.namespace().is_active() => slot.take(),
                _ => None,
            }
        };
        if let Some(s) = stopped {
            drop(s);
            pr_info!("stopped: its network namespace is gone\n");
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: initialised by `init_lock`, first thing in `Tux::init`, before the
    // sysctls, `/proc/net/tux` or `tux(2)` can reach `Instance::of`.
    unsafe(uninit) static INSTANCES: Mutex<KVec<Arc<Instance>>> = KVec::new();
}

/// Initialises the lock of the instances.
///
/// # Safety
///
/// Must be called once, before any other use of `INSTANCES`.
pub(crate) unsafe fn init_lock() {
    // SAFETY: by the safety requirements.
    unsafe { INSTANCES.init() };
}

impl Instance {
    /// The instance of `net`, made on first use.
    pub(crate) fn of(net: &Namespace) -> Result<Arc<Instance>> {
        let key = net.as_ptr() as usize;
        let mut all = INSTANCES.lock();
        if let Some(i) = all.iter().find(|i| i.net == key) {
            return Ok(i.clone());
        }
        let user = Registry::new()?;
        let i = Arc::pin_init(
            pin_init!(Instance {
                net: key,
                stats: Stats::new(),
                log <- Log::new(),
                user,
                server <- new_mutex!(None),
                reap_work <- new_work!("tux::netns::reap"),
            }),
            GFP_KERNEL,
        )?;
        all.push(i.clone(), GFP_KERNEL)?;
        Ok(i)
    }

    /// The instance of `net` if it was made.
    pub(crate) fn find(net: &Namespace) -> Option<Arc<Instance>> {
        let key = net.as_ptr() as usize;
        INSTANCES.lock().iter().find(|i| i.net == key).cloned()
    }

    /// Has the server stopped if nobody can enter its namespace any more (see the
    /// module documentation). Called by the server's sweeper, which cannot stop the
    /// server it is part of itself.
    pub(crate) fn reap(this: &Arc<Instance>) {
        let _ = workqueue::system().enqueue(this.clone());
    }
}

/// How many namespaces have an instance.
pub(crate) fn count() -> usize {
    INSTANCES.lock().len()
}

/// Drops the instance of `net`; called by `control.c` when the namespace goes.
///
/// # Safety
///
/// `net` must be a namespace being dismantled: nothing can make its instance again.
#[no_mangle]
pub(crate) unsafe extern "C" fn tux_net_release(net: *mut bindings::net) {
    let key = net as usize;
    let gone = {
        let mut all = INSTANCES.lock();
        all.iter()
            .position(|i| i.net == key)
            .and_then(|at| all.remove(at).ok())
    };
    if let Some(i) = gone {
        // A running server holds a reference to its namespace, so none runs here;
        // module threads are tasks of the namespace, so none is left either.
        if let Some(s) = i.server.lock().take() {
            drop(s);
        }
        i.user.shutdown();
    }
}
