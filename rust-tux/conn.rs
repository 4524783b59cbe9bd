// SPDX-License-Identifier: GPL-2.0

//! One client connection: bytes in → HTTP core → plan → bytes out.
//!
//! A connection belongs to the server thread that accepted it (`engine`). Its
//! socket callbacks put it on that thread's ready list; each run makes as much
//! progress as the socket allows without blocking (reading, parsing, looking
//! up, sending) and returns, or yields after sending its share. Responses are sent in request
//! order, so pipelined requests are answered one after the other from the
//! same input buffer.
//!
//! Memory per connection is bounded: while a request is under way the
//! connection holds an input buffer (`max_header_len`), a response-head
//! buffer and scratch space for path names, allocated when its first bytes
//! arrive; nothing a client sends makes them grow. An idle connection (no
//! unconsumed input, no response, no module request) gives them back, so
//! 10,000 idle keep-alive clients cost their sockets and a few hundred bytes
//! each, not 50 KiB.

use crate::{
    clock,
    config::Config,
    engine::{Link, Linked, Worker},
    http::{
        date::Now,
        parser::{self, Parse},
        plan::{self, Body},
        status::Status,
    },
    serve::{error_plan, kernel_answer, log_request, module_for, respond, unknown_host, PATH_BUF},
    server::Shared,
    user::Info,
};
use core::net::IpAddr;
use kernel::{
    fs::File,
    net::tcp::{Shutdown, SocketAddr, SocketEvents, TcpStream},
    new_condvar, new_mutex, new_spinlock,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, ArcBorrow, CondVar, Mutex, SpinLock,
    },
};

/// Room for a response head. A head that does not fit (a 301 to a very long
/// path) is answered with a 500, which always fits.
const HEAD_BUF: usize = 1024;
/// Most bytes of a file handed to the socket in one call.
const SEND_CHUNK: usize = 1 << 20;
/// Bytes of files a run sends before it yields to the other connections of its thread.
const SEND_SHARE: usize = 256 << 10;
/// How long a connection closed after an error response keeps reading (and
/// throwing away) what the client still sends, after the response and the FIN.
const LINGER_MS: i64 = 5000;
/// How much it reads so at most; then it closes anyway.
const LINGER_MAX: usize = 1 << 20;

/// A client connection.
#[pin_data]
pub(crate) struct Connection {
    /// Its place on its thread's ready list.
    link: Link<Connection>,
    /// The server thread that serves it.
    worker: Arc<Worker>,
    #[pin]
    inner: Mutex<Inner>,
    server: Arc<Shared>,
    /// Set by the sweeper or by stop: close at the next run.
    expired: Atomic<bool>,
    /// Monotonic ms after which the sweeper expires the connection.
    deadline: Atomic<i64>,
    /// The client's address, for the access log and the per-source limit (an IPv4
    /// client of the dual-stack listener is IPv4 here).
    peer: IpAddr,
    peer_port: u16,
    /// Its index in the server's connection table (`conns::Conns`), which reads and
    /// writes it only under the table's lock.
    table_index: Atomic<usize>,
    /// A userspace module owns the current request (see `user`): the
    /// connection's own work does nothing until the module lets go.
    in_user: Atomic<bool>,
    /// `tux(2)` callers acting on the request wait here for the socket.
    #[pin]
    user_wait: CondVar,
    /// How the TLS handshake of an HTTPS connection ended (see `tls`).
    handshake: Atomic<i32>,
}

mod tls;
pub(crate) mod user;

pub(crate) use tls::HandshakeQueue;

// SAFETY: `link` always returns the same field of `self`.
unsafe impl Linked for Connection {
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

/// What a run ends with.
enum Step {
    /// Wait for a socket callback.
    Wait,
    /// Sent its share: run again after the thread's other ready connections.
    Yield,
    /// Close the connection.
    Close,
    /// Queue the request (at the start of the input) to userspace module `0`.
    ToUser(u32, Info),
}

/// The response being sent.
struct Response {
    head_sent: usize,
    head_len: usize,
    static_body: &'static [u8],
    static_sent: usize,
    file: Option<ARef<File>>,
    file_pos: i64,
    file_end: i64,
    /// Length of the body an in-kernel handler generated (in `Inner::generated`).
    generated: usize,
    generated_sent: usize,
    keep_alive: bool,
    /// An error response that ends the connection: linger after it (see
    /// [`Inner::linger`]).
    linger: bool,
}

struct Inner {
    stream: Option<TcpStream<Connection>>,
    /// Received bytes not yet consumed, `input[..used]`.
    input: KVec<u8>,
    used: usize,
    /// Request body bytes still to be thrown away.
    discard: u64,
    head: KVec<u8>,
    /// Path names: routed path, index name, `.gz` name, C string.
    scratch: KVec<u8>,
    response: Option<Response>,
    /// The time for `Date`, formatted at most once per second.
    now: Now,
    /// The request a userspace module owns, if any.
    user: Option<user::UserReq>,
    /// Body written by in-kernel handlers; allocated at the first use.
    generated: KVec<u8>,
    /// A response ended with `more` because a pipelined request followed it: the socket
    /// holds back its last partial segment until the run pushes it.
    corked: bool,
    /// The time the current run reckons timeouts from (its thread's batch time).
    batch_ms: i64,
    /// Bytes thrown away while lingering; `None` when not lingering.
    lingered: Option<usize>,
    /// Plain HTTP, or HTTPS and where its TLS is.
    tls: tls::Tls,
}

impl Connection {
    /// Creates the connection from `peer` and routes its socket's callbacks to it: if a
    /// request is already there, its work is queued at once.
    ///
    /// An HTTPS connection (`https`) first goes to the handshake agent; its events are
    /// registered once the handshake is done. If no handshake can start (no agent), it is
    /// closed, counted, and `Ok(None)` returned.
    pub(crate) fn new(
        server: Arc<Shared>,
        worker: Arc<Worker>,
        stream: TcpStream<Connection>,
        peer: SocketAddr,
        https: bool,
    ) -> Result<Option<Arc<Self>>> {
        let deadline = clock::monotonic_ms().saturating_add(server.config.header_ms);
        let (peer, peer_port) = (peer.ip(), peer.port());
        let conn = Arc::pin_init(
            pin_init!(Connection {
                link: Link::new(),
                worker,
                inner <- new_mutex!(Inner {
                    stream: None,
                    input: KVec::new(),
                    used: 0,
                    discard: 0,
                    head: KVec::new(),
                    scratch: KVec::new(),
                    response: None,
                    now: Now::at(clock::real_seconds()),
                    user: None,
                    generated: KVec::new(),
                    corked: false,
                    batch_ms: 0,
                    lingered: None,
                    tls: tls::Tls::Plain,
                }),
                server,
                expired: Atomic::new(false),
                deadline: Atomic::new(deadline),
                peer,
                peer_port,
                table_index: Atomic::new(usize::MAX),
                in_user: Atomic::new(false),
                user_wait <- new_condvar!("tux::conn::user_wait"),
                handshake: Atomic::new(tls::PENDING),
            }),
            GFP_KERNEL,
        )?;
        let mut stream = stream;
        stream.set_nodelay();
        {
            // Registering may report the connection ready at once, and a handshake may end
            // at once: the work then waits for the lock and finds the stream in place.
            let mut inner = conn.inner.lock();
            if https {
                if let Err(stream) = tls::start(&conn, &mut inner, stream) {
                    drop(inner);
                    stream.close();
                    return Ok(None);
                }
                return Ok(Some(conn.clone()));
            }
            stream.set_events(conn.clone())?;
            inner.stream = Some(stream);
        }
        Ok(Some(conn))
    }

    /// The client's address.
    pub(crate) fn source(&self) -> IpAddr {
        self.peer
    }

    /// The connection's index in the server's connection table.
    pub(crate) fn slot(&self) -> usize {
        self.table_index.load(Relaxed)
    }

    /// Records the connection's index in the server's connection table.
    pub(crate) fn set_slot(&self, i: usize) {
        self.table_index.store(i, Relaxed);
    }

    /// Queues a run of the connection on its thread.
    pub(crate) fn kick(self: &Arc<Self>) {
        self.worker.schedule(self.as_arc_borrow());
    }

    /// Makes the connection close at its next run, and queues that run.
    pub(crate) fn expire(self: &Arc<Self>) {
        self.expired.store(true, Relaxed);
        self.user_wait.notify_all();
        self.kick();
    }

    /// Whether the connection is past its deadline at monotonic time `now`.
    pub(crate) fn timed_out(&self, now: i64) -> bool {
        now > self.deadline.load(Relaxed)
    }

    fn set_deadline(&self, ms_from_now: i64) {
        self.set_deadline_from(clock::monotonic_ms(), ms_from_now);
    }

    /// Sets the deadline `ms_from_now` after monotonic time `now`.
    fn set_deadline_from(&self, now: i64, ms_from_now: i64) {
        self.deadline
            .store(now.saturating_add(ms_from_now), Relaxed);
    }
}

impl Connection {
    /// A socket callback: wake whoever drives the connection now.
    fn ready(this: ArcBorrow<'_, Self>) {
        if this.in_user.load(Relaxed) {
            this.user_wait.notify_all();
        } else {
            this.worker.schedule(this);
        }
    }
}

impl SocketEvents for Connection {
    fn data_ready(this: ArcBorrow<'_, Self>) {
        Self::ready(this);
    }
    fn write_space(this: ArcBorrow<'_, Self>) {
        Self::ready(this);
    }
    fn state_change(this: ArcBorrow<'_, Self>) {
        Self::ready(this);
    }
}

impl Connection {
    /// Makes as much progress as the socket allows, on the connection's server thread
    /// (or, once the server is stopped, on the thread that stops it).
    pub(crate) fn run(this: Arc<Connection>) {
        let expired = this.expired.load(Relaxed);
        if this.in_user.load(Relaxed) && !expired {
            // A module owns the request; it kicks us when it lets go.
            return;
        }
        let mut inner = this.inner.lock();
        if inner.stream.is_none() {
            return;
        }
        inner.batch_ms = this.worker.batch_ms();
        let step = if expired {
            inner.tls.closing(&this);
            Step::Close
        } else if inner.tls.is_handshaking() {
            inner.finish_handshake(&this)
        } else {
            inner.drive(&this)
        };
        if core::mem::take(&mut inner.corked) && !matches!(step, Step::Close) {
            // The responses of pipelined requests went out as few segments; the run
            // stops here, so the last of them goes now. (A close sends it anyway.)
            if let Some(stream) = inner.stream.as_ref() {
                stream.push();
            }
        }
        match step {
            Step::Wait => {}
            Step::Yield => {
                drop(inner);
                this.kick();
            }
            Step::ToUser(module, info) => {
                drop(inner);
                this.to_user(module, info);
            }
            Step::Close => {
                let was_user = inner.user_closing(&this);
                inner.response = None;
                // A connection per request must not cost a fresh (zeroed) set of
                // buffers each: the next connection takes this one.
                inner.give_back_buffers(&this.server);
                // Closing the stream restores its callbacks, dropping their reference to
                // us, and closes the socket after the data already queued: now, not a
                // jiffy later in a batch with every other connection closed meanwhile.
                inner.close_notify();
                if let Some(stream) = inner.stream.take() {
                    stream.close();
                }
                drop(inner);
                if was_user {
                    this.server.user.forget(&this);
                }
                this.server.remove(&this);
            }
        }
    }
}

/// Outcome of trying to answer the request at the start of the input.
enum Parsed {
    /// A response is ready to send.
    Responding,
    /// More input is needed.
    NeedMore,
    /// The request goes to a userspace module.
    ToUser(u32, Info),
    /// The connection was handed to the fallback server.
    HandedOff,
}

impl Inner {
    fn drive(&mut self, conn: &Arc<Connection>) -> Step {
        let cfg = &conn.server.config;
        if self.user.is_none() && self.acquire_buffers(&conn.server).is_err() {
            // No memory for a request: the client can come back.
            return Step::Close;
        }
        loop {
            if self.user.is_some() {
                return Step::Wait;
            }
            if self.lingered.is_some() {
                return self.linger(conn);
            }
            if self.response.is_some() {
                match self.send(conn) {
                    Ok(true) => {}
                    Ok(false) => return Step::Wait,
                    Err(step) => return step,
                }
                let (keep_alive, linger) = self
                    .response
                    .take()
                    .map_or((false, false), |r| (r.keep_alive, r.linger));
                if !keep_alive {
                    if !linger {
                        return Step::Close;
                    }
                    // The client may still be sending (the rest of a head too large to
                    // read, a body): closing with unread data would reset the
                    // connection, and a reset can destroy the response before the
                    // client reads it. Send the FIN after the response instead, and read
                    // until the client closes, for LINGER_MS at most.
                    self.close_notify();
                    let Some(stream) = self.stream.as_ref() else {
                        return Step::Close;
                    };
                    if stream.shutdown(Shutdown::Write).is_err() {
                        return Step::Close;
                    }
                    self.used = 0;
                    self.discard = 0;
                    self.lingered = Some(0);
                    conn.server.inst.stats.lingering_closes.add(1, Relaxed);
                    conn.set_deadline_from(self.batch_ms, LINGER_MS);
                    continue;
                }
                conn.set_deadline_from(
                    self.batch_ms,
                    if self.used > 0 {
                        cfg.header_ms
                    } else {
                        cfg.keepalive_ms
                    },
                );
                continue;
            }
            if self.discard > 0 {
                let n = usize::try_from(self.discard)
                    .unwrap_or(usize::MAX)
                    .min(self.used);
                self.consume(n);
                self.discard = self.discard.saturating_sub(n as u64);
            }
            if self.used > 0 && self.discard == 0 {
                match self.process(conn) {
                    Parsed::Responding => continue,
                    Parsed::NeedMore => {}
                    Parsed::ToUser(module, info) => return Step::ToUser(module, info),
                    Parsed::HandedOff => return Step::Close,
                }
            }
            let Some(stream) = self.stream.as_ref() else {
                return Step::Close;
            };
            let Some(free) = self.input.get_mut(self.used..) else {
                return Step::Close;
            };
            match tls::recv(stream, &self.tls, free, &conn.server.inst.stats) {
                Ok(0) => return Step::Close,
                Ok(n) => {
                    if self.used == 0 && self.discard == 0 {
                        // The first bytes of a request: it has header_timeout to complete.
                        conn.set_deadline_from(self.batch_ms, cfg.header_ms);
                    }
                    self.used = self.used.saturating_add(n);
                    conn.server.inst.stats.bytes_received.add(n as u64, Relaxed);
                }
                Err(e) if e == EAGAIN => {
                    self.release_buffers_if_idle(&conn.server);
                    return Step::Wait;
                }
                Err(_) => return Step::Close,
            }
        }
    }

    /// Reads and throws away what the client sends after an error response, until it
    /// closes (or [`LINGER_MAX`] bytes, or the deadline [`LINGER_MS`] away).
    fn linger(&mut self, conn: &Connection) -> Step {
        let (Some(stream), Some(mut total)) = (self.stream.as_ref(), self.lingered) else {
            return Step::Close;
        };
        loop {
            match stream.recv(&mut self.input) {
                Ok(0) => return Step::Close,
                Ok(n) => {
                    conn.server.inst.stats.bytes_received.add(n as u64, Relaxed);
                    total = total.saturating_add(n);
                    if total >= LINGER_MAX {
                        return Step::Close;
                    }
                }
                Err(e) if e == EAGAIN => {
                    self.lingered = Some(total);
                    return Step::Wait;
                }
                Err(_) => return Step::Close,
            }
        }
    }

    /// Takes the request buffers (from the server's pool, or new) if an idle spell gave
    /// them back.
    fn acquire_buffers(&mut self, server: &Shared) -> Result {
        if self.input.is_empty() {
            let b = server.buffers.get(&server.config)?;
            self.input = b.input;
            self.head = b.head;
            self.scratch = b.scratch;
        }
        Ok(())
    }

    /// Gives the request buffers back to the server's pool while the connection is
    /// idle: nothing received and not consumed, nothing to send or throw away, no
    /// module request.
    fn release_buffers_if_idle(&mut self, server: &Shared) {
        if self.used == 0 && self.discard == 0 && self.response.is_none() && self.user.is_none() {
            self.give_back_buffers(server);
        }
    }

    /// Gives the request buffers, if held, back to the server's pool. The next request
    /// of this connection (if any) takes a set again; none of it may be live now.
    fn give_back_buffers(&mut self, server: &Shared) {
        if !self.input.is_empty() {
            self.used = 0;
            server.buffers.put(Buffers {
                input: core::mem::take(&mut self.input),
                head: core::mem::take(&mut self.head),
                scratch: core::mem::take(&mut self.scratch),
            });
        }
        self.generated = KVec::new();
    }

    /// Drops the first `n` bytes of input.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.used);
        // `n <= used <= input.len()`: this copy cannot go out of bounds.
        if let Some(live) = self.input.get_mut(..self.used) {
            live.copy_within(n.., 0);
        }
        self.used = self.used.saturating_sub(n);
    }

    /// Parses the request at the start of the input and prepares its response.
    fn process(&mut self, conn: &Arc<Connection>) -> Parsed {
        let server = &*conn.server;
        let cfg = &server.config;
        self.now.refresh(clock::real_seconds());
        let now = self.now;
        let input = self.input.get(..self.used).unwrap_or(&[]);
        let full = self.used >= self.input.len();
        // Body bytes an in-kernel handler wrote into `self.generated`.
        let mut generated = 0usize;
        let result = match parser::parse_request(input, &cfg.limits) {
            Ok(Parse::Complete { request, consumed }) => {
                if let Some(module) = module_for(&request, server, &mut self.scratch) {
                    let info = Info {
                        method: crate::user::method_code(&request.method),
                        version: crate::user::version_code(request.version),
                        keep_alive: cfg.plan.keep_alive && request.wants_keep_alive(),
                        headers_len: consumed as u64,
                        body_len: request.content_length,
                        peer: conn.peer,
                        peer_port: conn.peer_port,
                    };
                    self.user = Some(user::UserReq::new(consumed, request.content_length));
                    // From now on the work item leaves the connection alone.
                    conn.in_user.store(true, Relaxed);
                    return Parsed::ToUser(module, info);
                }
                // (Not an HTTPS connection: its kTLS session would go to a server that
                // expects plain TCP; TUX answers those requests itself.)
                let redirected = cfg.clientport != 0
                    && !self.tls.is_established()
                    && (plan::hands_off(&request.method)
                        || (!server.mime_types.is_empty()
                            && self
                                .scratch
                                .get_mut(..PATH_BUF)
                                .and_then(|buf| plan::module_path(&request, buf))
                                .is_some_and(|path| server.redirected(path)))
                        || unknown_host(&request, server, &mut self.scratch));
                if redirected {
                    if let Some(stream) = self.stream.take() {
                        match crate::handoff::hand_off(
                            stream,
                            input,
                            cfg.clientport,
                            &conn.server.inst.stats,
                        ) {
                            Ok(()) => return Parsed::HandedOff,
                            // Nobody there, a listener that may not have it, or busy:
                            // answer it ourselves, below.
                            Err((back, _)) => self.stream = back,
                        }
                        if self.stream.is_none() {
                            return Parsed::HandedOff;
                        }
                        // The events were cleared by the attempt: route them to us again
                        // (or close, if that fails).
                        if let Some(mut s) = self.stream.take() {
                            if s.set_events(conn.clone()).is_err() {
                                return Parsed::HandedOff;
                            }
                            self.stream = Some(s);
                        }
                    }
                }
                let plan = match kernel_answer(
                    &request,
                    cfg,
                    &mut self.scratch,
                    &mut self.generated,
                    &mut self.head,
                    now,
                ) {
                    Some((plan, len)) => {
                        generated = len;
                        plan
                    }
                    None => respond(&request, server, &mut self.scratch, &mut self.head, now),
                };
                if cfg.logging {
                    log_request(
                        &conn.server.inst,
                        conn.peer,
                        now,
                        Some(&request),
                        &plan.0,
                        &mut self.scratch,
                    );
                }
                Some((plan, consumed))
            }
            Ok(Parse::Incomplete) if !full => None,
            // A head that does not fit in the input buffer is too large; a head that
            // cannot be parsed gets its error. Either way, the rest of the input goes.
            unanswerable => {
                let status = match unanswerable {
                    Err(e) => e.status(),
                    _ => Status::HeaderFieldsTooLarge,
                };
                let plan = error_plan(None, cfg, status, now, &mut self.head);
                if cfg.logging {
                    log_request(
                        &conn.server.inst,
                        conn.peer,
                        now,
                        None,
                        &plan.0,
                        &mut self.scratch,
                    );
                }
                Some((plan, self.used))
            }
        };
        let Some(((plan, file), consumed)) = result else {
            return Parsed::NeedMore;
        };
        conn.server.inst.stats.requests.add(1, Relaxed);
        conn.server.inst.stats.response(plan.status.code());
        self.consume(consumed);
        self.discard = plan.discard;
        let (static_body, file_range) = match plan.body {
            Body::None => (&[][..], None),
            Body::Static(b) => (b, None),
            Body::File { offset, len, .. } => (&[][..], Some((offset, len))),
        };
        let (file_pos, file_end) = match file_range {
            Some((offset, len)) => {
                let start = i64::try_from(offset).unwrap_or(i64::MAX);
                (
                    start,
                    start.saturating_add(i64::try_from(len).unwrap_or(i64::MAX)),
                )
            }
            None => (0, 0),
        };
        self.response = Some(Response {
            head_sent: 0,
            head_len: plan.head_len,
            static_body,
            static_sent: 0,
            file: if file_range.is_some() { file } else { None },
            file_pos,
            file_end,
            generated,
            generated_sent: 0,
            keep_alive: plan.keep_alive,
            linger: !plan.keep_alive && plan.status.code() >= 400,
        });
        Parsed::Responding
    }

    /// Sends as much of the response as the socket takes. `Ok(true)` when it is all sent,
    /// `Ok(false)` when the socket is full, `Err(Step::Yield)` when the run has sent
    /// [`SEND_SHARE`] bytes of a file and the socket still takes more: the other
    /// connections of the thread go first.
    fn send(&mut self, conn: &Connection) -> Result<bool, Step> {
        let (Some(stream), Some(r)) = (self.stream.as_ref(), self.response.as_mut()) else {
            return Err(Step::Close);
        };
        let cfg = &conn.server.config;
        // Bytes of a further request are already here (pipelining): its response follows
        // in this run, so this one need not end a segment. `run()` pushes at the end.
        // (Not through kTLS, where a send with `more` leaves its record open until a later
        // send closes it: each response ends its records.)
        let follows = self.used > 0 && !self.tls.is_established();
        self.corked |= follows;
        // Whether bytes come after each part (head, static body, generated body, file): the
        // part's sends pass it as `more`.
        let after_generated = follows || r.file.is_some();
        let after_static = after_generated || r.generated > 0;
        let after_head = after_static || !r.static_body.is_empty();
        while r.head_sent < r.head_len {
            let chunk = self.head.get(r.head_sent..r.head_len).unwrap_or(&[]);
            match stream.send(chunk, after_head) {
                Ok(n) => {
                    r.head_sent = r.head_sent.saturating_add(n);
                    conn.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                    conn.set_deadline_from(self.batch_ms, cfg.header_ms);
                }
                Err(e) if e == EAGAIN => return Ok(false),
                Err(_) => return Err(Step::Close),
            }
        }
        while r.static_sent < r.static_body.len() {
            let chunk = r.static_body.get(r.static_sent..).unwrap_or(&[]);
            match stream.send(chunk, after_static) {
                Ok(n) => {
                    r.static_sent = r.static_sent.saturating_add(n);
                    conn.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                    conn.set_deadline_from(self.batch_ms, cfg.header_ms);
                }
                Err(e) if e == EAGAIN => return Ok(false),
                Err(_) => return Err(Step::Close),
            }
        }
        while r.generated_sent < r.generated {
            let chunk = self
                .generated
                .get(r.generated_sent..r.generated)
                .unwrap_or(&[]);
            match stream.send(chunk, after_generated) {
                Ok(n) => {
                    r.generated_sent = r.generated_sent.saturating_add(n);
                    conn.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                    conn.set_deadline_from(self.batch_ms, cfg.header_ms);
                }
                Err(e) if e == EAGAIN => return Ok(false),
                Err(_) => return Err(Step::Close),
            }
        }
        if let Some(file) = r.file.as_ref() {
            let mut share = SEND_SHARE;
            while r.file_pos < r.file_end {
                if share == 0 {
                    return Err(Step::Yield);
                }
                let left = usize::try_from(r.file_end.saturating_sub(r.file_pos)).unwrap_or(0);
                let chunk = left.min(SEND_CHUNK).min(share);
                let more = follows || chunk < left;
                match stream.send_file(file, &mut r.file_pos, chunk, more) {
                    // The file shrank under us: the promised length cannot be kept.
                    Ok(0) => return Err(Step::Close),
                    Ok(n) => {
                        conn.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                        conn.set_deadline_from(self.batch_ms, cfg.header_ms);
                        share = share.saturating_sub(n);
                    }
                    Err(e) if e == EAGAIN => return Ok(false),
                    Err(_) => return Err(Step::Close),
                }
            }
        }
        Ok(true)
    }
}

/// The buffers a connection needs while it has a request under way.
pub(crate) struct Buffers {
    input: KVec<u8>,
    head: KVec<u8>,
    scratch: KVec<u8>,
}

/// Request buffers of connections gone idle, for the next connection that gets a request:
/// busy keep-alive connections take and return a set per request without allocating or
/// clearing 50 KiB, and idle ones hold none.
///
/// Buffers are never read beyond what the current request wrote into them, so their old
/// contents (another request's) are never seen.
#[pin_data]
pub(crate) struct BufferPool {
    #[pin]
    free: SpinLock<KVec<Buffers>>,
}

impl BufferPool {
    /// Sets kept at most; beyond that, returned buffers are freed.
    const KEEP: usize = 64;

    pub(crate) fn new() -> Result<impl PinInit<Self>> {
        let free = KVec::with_capacity(Self::KEEP, GFP_KERNEL)?;
        Ok(pin_init!(BufferPool {
            free <- new_spinlock!(free, "tux::conn::BufferPool"),
        }))
    }

    /// A set of buffers for the request limits of `cfg`.
    fn get(&self, cfg: &Config) -> Result<Buffers> {
        if let Some(b) = self.free.lock().pop() {
            return Ok(b);
        }
        // Zeroed by the allocator (`__GFP_ZERO`): `KVec::from_elem` writes one byte at a
        // time, six instructions per byte in a profile of the benchmark (16,000 per request
        // at 1 MiB and 256 connections, where the pool runs dry).
        Ok(Buffers {
            input: KVec::zeroed(cfg.limits.max_head_bytes, GFP_KERNEL)?,
            head: KVec::zeroed(HEAD_BUF, GFP_KERNEL)?,
            scratch: KVec::zeroed(PATH_BUF * 4, GFP_KERNEL)?,
        })
    }

    fn put(&self, b: Buffers) {
        // The pool never grows: a full pool frees the set (outside the lock).
        let rejected = self.free.lock().push_within_capacity(b).err();
        drop(rejected);
    }
}

/// Answers a connection over `max_connect` with a 503 and closes it.
pub(crate) fn refuse(stream: &TcpStream<Connection>, cfg: &Config) {
    let mut head = [0u8; 512];
    let (plan, _) = error_plan(
        None,
        cfg,
        Status::ServiceUnavailable,
        Now::at(clock::real_seconds()),
        &mut head,
    );
    let _ = stream.send(head.get(..plan.head_len).unwrap_or(&[]), true);
    if let Body::Static(b) = plan.body {
        let _ = stream.send(b, false);
    }
}
