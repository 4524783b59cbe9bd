// SPDX-License-Identifier: GPL-2.0

//! The server: listener, connection registry and timeout sweeper.
//!
//! Threading model: one server thread per CPU (see `engine`), never a thread
//! per connection. The listener's callback wakes a thread to accept; the
//! connections' callbacks put them on their thread's ready list. The sweeper
//! is a delayed work item, once a second.

use crate::cache::ObjectCache;
use crate::config::Config;
use crate::conn::{BufferPool, Connection, HandshakeQueue};
use crate::conns::{Conns, Refusal, Source};
use crate::engine::{self, Threads, Worker, ACCEPT_BATCH};
use crate::netns::Instance;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use kernel::{
    fs::path::Path,
    net::{
        namespace::Namespace,
        tcp::{SocketEvents, TcpListener},
    },
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Full, Relaxed},
        Arc, ArcBorrow, Mutex,
    },
    time::msecs_to_jiffies,
    workqueue::{self, impl_has_delayed_work, new_delayed_work, DelayedWork, WorkItem},
};

/// State shared by the listener, every connection and the sweeper.
#[pin_data]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// The network namespace the server listens in.
    net: ARef<Namespace>,
    /// That namespace's TUX: counters, access log, modules.
    pub(crate) inst: Arc<Instance>,
    /// The document root; every lookup stays beneath it.
    pub(crate) docroot: Path,
    /// Hot objects beneath the document root.
    #[pin]
    pub(crate) cache: ObjectCache,
    /// Request buffers of idle connections.
    #[pin]
    pub(crate) buffers: BufferPool,
    /// Open connections, for the connection limits, timeouts and stop.
    #[pin]
    pub(crate) conns: Mutex<Conns>,
    /// The listener; `None` once stopped.
    #[pin]
    listener: Mutex<Option<TcpListener<Shared>>>,
    /// The HTTPS listener, if `https_port` is set; `None` once stopped.
    #[pin]
    https_listener: Mutex<Option<TcpListener<Shared>>>,
    /// HTTPS connections waiting for room in the kernel's handshake queue.
    #[pin]
    pub(crate) handshake_queue: HandshakeQueue,
    pub(crate) stopping: Atomic<bool>,
    /// Userspace modules and their requests.
    pub(crate) user: Arc<crate::user::Registry>,
    /// MIME types registered through `tux(2)` before the start.
    pub(crate) mime_types: KVec<crate::user::MimeType>,
    /// One per server thread, with the connections it serves.
    pub(crate) workers: KVec<Arc<Worker>>,
    /// The listener has connections to accept (set by its callback, taken by a thread).
    pub(crate) accept_pending: Atomic<bool>,
    /// Where the listener's next wake-up starts looking for a sleeping thread.
    pub(crate) next_acceptor: Atomic<usize>,
    #[pin]
    sweep_work: DelayedWork<Shared, 2>,
}

impl_has_delayed_work! {
    impl HasDelayedWork<Self, 2> for Shared { self.sweep_work }
}

impl SocketEvents for Shared {
    fn data_ready(this: ArcBorrow<'_, Self>) {
        // Fully ordered: the threads' idle flags are read after the flag is set.
        this.accept_pending.xchg(true, Full);
        engine::wake_acceptor(&this);
    }
    fn write_space(_this: ArcBorrow<'_, Self>) {}
    fn state_change(_this: ArcBorrow<'_, Self>) {}
}

impl WorkItem<2> for Shared {
    type Pointer = Arc<Shared>;

    fn run(this: Arc<Shared>) {
        if this.stopping.load(Relaxed) {
            return;
        }
        if !this.net.is_active() {
            // Nobody can enter the namespace any more: have the server stopped, which
            // lets the namespace go. (The sweeps go on meanwhile: the namespace may be
            // entered again, through `SIOCGSKNS` on one of its sockets.)
            Instance::reap(&this.inst);
        }
        this.sweep();
        this.cache.evict_stale();
        let _ = workqueue::system()
            .enqueue_delayed::<Arc<Shared>, 2>(this.clone(), msecs_to_jiffies(1000));
    }
}

/// A running server; dropping it stops it.
pub(crate) struct Server {
    shared: Arc<Shared>,
    /// `None` only while being dropped.
    threads: Option<Threads>,
}

impl Server {
    /// The configuration the server runs with.
    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The network namespace the server listens in.
    pub(crate) fn namespace(&self) -> &Namespace {
        &self.shared.net
    }

    /// Binds the listener of `config`. The default `[::]` falls back to `0.0.0.0` when
    /// the kernel has no IPv6 (`ipv6.disable=1`), and `config` then says so.
    fn listen(net: &Namespace, config: &mut Config) -> Result<TcpListener<Shared>> {
        let backlog = config.backlog;
        let bind = |addr| TcpListener::<Shared>::bind(net, addr, backlog, true);
        let listener = match (bind(config.listen), config.listen) {
            (Err(e), SocketAddr::V6(any)) if e == EAFNOSUPPORT && any.ip().is_unspecified() => {
                let v4 = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, any.port()));
                pr_info!("no IPv6 in this kernel: listening on IPv4 only\n");
                config.listen = v4;
                bind(v4)
            }
            (result, _) => result,
        };
        listener.inspect_err(|e| {
            pr_err!(
                "cannot listen on {}: error {}\n",
                crate::config::Shown(config.listen),
                e.to_errno()
            );
        })
    }

    /// Binds the HTTPS listener on the listening address (as bound: IPv4 if the default
    /// fell back) with `https_port`, if it is set. The TLS handshakes need the kernel's
    /// handshake upcall (`CONFIG_TUX_HTTPS`) and an agent (`tux tlsd`).
    fn listen_https(net: &Namespace, config: &mut Config) -> Result<Option<TcpListener<Shared>>> {
        let Some(https) = config.https else {
            return Ok(None);
        };
        if !cfg!(CONFIG_TUX_HTTPS) {
            pr_err!("https_port is set, but this kernel has no HTTPS (CONFIG_TUX_HTTPS)\n");
            return Err(EOPNOTSUPP);
        }
        if https.port() == config.listen.port() || https.port() == config.clientport {
            pr_err!(
                "https_port {} is taken by port or clientport\n",
                https.port()
            );
            return Err(EINVAL);
        }
        let mut addr = config.listen;
        addr.set_port(https.port());
        config.https = Some(addr);
        let listener =
            TcpListener::<Shared>::bind(net, addr, config.backlog, true).inspect_err(|e| {
                pr_err!(
                    "cannot listen for HTTPS on {}: error {}\n",
                    crate::config::Shown(addr),
                    e.to_errno()
                );
            })?;
        // No TCP_DEFER_ACCEPT: the client speaks first (its ClientHello), but the agent
        // reads it, and the handshake should start at once.
        Ok(Some(listener))
    }

    /// Looks up the document root (in the caller's mount namespace), binds the listener
    /// in `net` and starts accepting, for `inst`, the instance of `net`.
    pub(crate) fn start(inst: Arc<Instance>, net: &Namespace, mut config: Config) -> Result<Self> {
        let docroot = Path::lookup(config.docroot_cstr()?, true).inspect_err(|e| {
            pr_err!(
                "cannot use document root '{}': error {}\n",
                config.docroot_str(),
                e.to_errno()
            );
        })?;
        let listener = Self::listen(net, &mut config)?;
        // Accept a connection when its request is there: one wake-up accepts, reads, parses
        // and answers it.
        listener.set_defer_accept(config.defer_accept)?;
        let https = Self::listen_https(net, &mut config)?;
        if config.clientport == config.listen.port() {
            pr_err!(
                "clientport {} is TUX's own port: hand-off would loop\n",
                config.clientport
            );
            return Err(EINVAL);
        }
        if config.logging {
            inst.log.allocate()?;
        }
        let user = inst.user.clone();
        let mime_types = user.mime_types()?;
        let cache = ObjectCache::new()?;
        let buffers = BufferPool::new()?;
        let workers = Threads::workers()?;
        let shared = Arc::pin_init(
            pin_init!(Shared {
                config,
                net: net.into(),
                inst,
                docroot,
                cache <- cache,
                buffers <- buffers,
                conns <- new_mutex!(Conns::new()),
                listener <- new_mutex!(None),
                https_listener <- new_mutex!(None),
                handshake_queue <- HandshakeQueue::new(),
                stopping: Atomic::new(false),
                user,
                mime_types,
                workers,
                accept_pending: Atomic::new(false),
                next_acceptor: Atomic::new(0),
                sweep_work <- new_delayed_work!("tux::sweep"),
            }),
            GFP_KERNEL,
        )?;
        let threads = Threads::start(&shared)?;
        {
            // Connections may already be waiting: registering reports them.
            let mut slot = shared.listener.lock();
            let mut listener = listener;
            listener.set_events(shared.clone())?;
            *slot = Some(listener);
        }
        if let Some(mut https) = https {
            https.set_events(shared.clone())?;
            *shared.https_listener.lock() = Some(https);
        }
        let _ = workqueue::system()
            .enqueue_delayed::<Arc<Shared>, 2>(shared.clone(), msecs_to_jiffies(1000));
        Ok(Self {
            shared,
            threads: Some(threads),
        })
    }
}

impl Drop for Server {
    /// Stops accepting, closes every connection and drops what the cache holds.
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.stopping.store(true, Relaxed);
        if let Some(mut l) = shared.listener.lock().take() {
            l.clear_events();
        }
        if let Some(mut l) = shared.https_listener.lock().take() {
            l.clear_events();
        }
        // The threads finish what they are doing and go; then every connection is expired
        // and closed here, and nothing is queued for them any more.
        drop(self.threads.take());
        let conns = shared.conns.lock().take_all();
        shared
            .inst
            .stats
            .connections_open
            .fetch_sub(i64::try_from(conns.len()).unwrap_or(0), Relaxed);
        for c in conns.iter() {
            c.expire();
        }
        drop(conns);
        engine::close_lists(shared);
        shared.handshake_queue.clear();
        // What the cache pins (dentries, open files) goes now, not with the last
        // connection: a filesystem beneath the document root can be unmounted at once.
        shared.cache.close();
        pr_info!("stopped\n");
    }
}

impl Shared {
    /// Accepts connections for `worker`, at most [`ACCEPT_BATCH`] of them; if there may be
    /// more, leaves them to another thread.
    pub(crate) fn accept_some(self: &Arc<Self>, worker: &Arc<Worker>) {
        let mut budget = ACCEPT_BATCH;
        let more = self.accept_on(&self.listener, false, worker, &mut budget)
            | self.accept_on(&self.https_listener, true, worker, &mut budget);
        if more {
            // The batch is used up: the listeners may hold more.
            self.accept_pending.xchg(true, Full);
            engine::wake_acceptor(self);
        }
    }

    /// Accepts connections of `listener` (HTTPS ones if `https`) for `worker`, `budget` at
    /// most. Returns whether the budget ran out: more may wait.
    fn accept_on(
        self: &Arc<Self>,
        listener: &Mutex<Option<TcpListener<Shared>>>,
        https: bool,
        worker: &Arc<Worker>,
        budget: &mut usize,
    ) -> bool {
        let guard = listener.lock();
        let Some(listener) = guard.as_ref() else {
            return false;
        };
        while *budget > 0 {
            *budget -= 1;
            if self.stopping.load(Relaxed) {
                return false;
            }
            let stream = match listener.accept::<Connection>() {
                Ok(s) => s,
                Err(e) if e == EAGAIN => return false,
                Err(e) => {
                    self.inst.stats.errors.add(1, Relaxed);
                    pr_debug!("accept failed: {}\n", e.to_errno());
                    return false;
                }
            };
            self.inst.stats.connections_total.add(1, Relaxed);
            // A peer whose name cannot be read (it reset the connection already) is
            // counted and logged as 0.0.0.0:0.
            let peer = stream
                .peer_addr()
                .unwrap_or(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)));
            let mut conns = self.conns.lock();
            if let Err(why) = conns.admit(Source::of(peer.ip()), &self.config) {
                drop(conns);
                match why {
                    Refusal::Full => self.inst.stats.refused.add(1, Relaxed),
                    Refusal::SourceFull => self.inst.stats.refused_per_source.add(1, Relaxed),
                }
                // Graceful refusal: a 503 the client can read, then close. (Not to an HTTPS
                // client, which expects a ServerHello.)
                if !https {
                    crate::conn::refuse(&stream, &self.config);
                }
                stream.close();
                continue;
            }
            // The table stays locked until the connection is in it: registering its events
            // runs its work at once if a request is already there, and the work's removal
            // at close must find it in the table. (The work takes the table's lock only
            // after releasing its own.)
            match Connection::new(self.clone(), worker.clone(), stream, peer, https) {
                Ok(Some(c)) => {
                    if conns.insert(c.clone()).is_err() {
                        drop(conns);
                        c.expire();
                        continue;
                    }
                    self.inst.stats.connections_open.add(1, Relaxed);
                }
                // Closed at once: no handshake could start (counted).
                Ok(None) => {}
                Err(_) => self.inst.stats.errors.add(1, Relaxed),
            }
        }
        true
    }

    /// Forgets a closed connection.
    pub(crate) fn remove(&self, conn: &Connection) {
        if self.conns.lock().remove(conn) {
            self.inst.stats.connections_open.fetch_sub(1, Relaxed);
        }
    }

    fn sweep(&self) {
        self.user.reap();
        // Connections still waiting for room in the handshake queue try again, in case
        // no handshake has ended to wake them (the agent refused some, or timed out).
        self.handshake_queue.wake_all();
        let now = crate::clock::monotonic_ms();
        let conns = self.conns.lock();
        for c in conns.iter() {
            if c.timed_out(now) {
                self.inst.stats.timeouts.add(1, Relaxed);
                c.expire();
            }
        }
    }
}
