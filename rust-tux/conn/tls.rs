// SPDX-License-Identifier: GPL-2.0

//! HTTPS connections: the TLS handshake through the handshake agent, then HTTP over kTLS.
//!
//! An HTTPS connection is handed to the handshake agent (`tux tlsd`) as soon as it is
//! accepted, with no events registered: the agent reads and writes the socket itself and
//! waits on it with the stack's callbacks. TUX ignores the connection meanwhile, but for its
//! deadline (`handshake_timeout`). The agent installs the session into kTLS and reports
//! back ([`HandshakeDone`]); the connection's next run registers its events and serves it
//! like any other, its sends encrypted and its receives decrypted by kTLS. A record that is
//! not application data (an alert, a close_notify among them) or does not decrypt ends the
//! connection. TUX ends its side with a close_notify of its own.

use super::{Connection, Inner, Step};
use crate::stats::Stats;
use kernel::{
    net::tcp::{
        tls::{ALERT_CLOSE_NOTIFY, RECORD_ALERT, RECORD_DATA},
        TcpStream,
    },
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Acquire, Relaxed, Release},
        Arc, Mutex,
    },
};

/// The handshake has not ended.
pub(super) const PENDING: i32 = 0;
/// The agent reported success: the connection is in kTLS.
const DONE: i32 = 1;
/// The agent reported failure.
const FAILED: i32 = 2;

/// Where the TLS of a connection is (in `Inner`, under its lock).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tls {
    /// Plain HTTP.
    Plain,
    /// HTTPS, waiting for room in the kernel's queue of handshake requests (in the
    /// server's [`HandshakeQueue`]).
    Queued,
    /// HTTPS, waiting for the agent.
    Handshaking,
    /// HTTPS through kTLS.
    Established,
    /// HTTPS through kTLS, and TUX sent its close_notify: it sends no more.
    Notified,
}

impl Tls {
    /// The handshake has not ended (or not begun).
    pub(super) fn is_handshaking(self) -> bool {
        matches!(self, Tls::Queued | Tls::Handshaking)
    }

    pub(super) fn is_established(self) -> bool {
        matches!(self, Tls::Established | Tls::Notified)
    }

    /// The connection is closing (expired: its deadline passed, or the server stops): one
    /// whose handshake had not ended is counted as timed out.
    pub(super) fn closing(self, conn: &Connection) {
        if self == Tls::Queued
            || (self == Tls::Handshaking && conn.handshake.load(Acquire) == PENDING)
        {
            conn.server.inst.stats.handshakes_timed_out.add(1, Relaxed);
        }
    }
}

#[cfg(CONFIG_TUX_HTTPS)]
impl kernel::net::tcp::tls::HandshakeDone for Connection {
    fn handshake_done(this: Arc<Self>, result: Result) {
        // Release: the run that sees the result sees the socket as the agent left it.
        this.handshake
            .store(if result.is_ok() { DONE } else { FAILED }, Release);
        this.kick();
        // The agent took requests off the kernel's queue: some that waited fit now.
        this.server.handshake_queue.wake(WAKE_PER_DONE);
    }
}

/// Connections woken to try the handshake queue again when a handshake ends.
const WAKE_PER_DONE: usize = 4;

/// HTTPS connections waiting for room in the kernel's queue of handshake requests.
///
/// `net/handshake` keeps at most 3 to 50 requests (by memory) waiting for the agent to
/// take them, per network namespace, and refuses more with `EAGAIN`. A burst of new
/// connections is larger than that, and its clients are not at fault: such a connection
/// waits here, within its handshake deadline, and tries again when a handshake ends (the
/// agent has taken requests) and at each sweep of the server (once a second).
#[pin_data]
pub(crate) struct HandshakeQueue {
    /// Oldest first. A connection is added by a refused attempt and taken out before it
    /// is woken for the next (nothing else runs a queued connection but its expiry, which
    /// closes it): it is in the queue at most once, which the connection limit bounds.
    #[pin]
    waiting: Mutex<KVec<Arc<Connection>>>,
}

impl HandshakeQueue {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            waiting <- new_mutex!(KVec::new(), "tux::conn::tls::waiting"),
        })
    }

    /// Adds `conn`, to be woken when there may be room.
    #[cfg_attr(not(CONFIG_TUX_HTTPS), allow(dead_code))]
    fn push(&self, conn: Arc<Connection>) -> Result {
        self.waiting.lock().push(conn, GFP_KERNEL)?;
        Ok(())
    }

    /// Queues a run of the `n` connections that waited longest; each tries again.
    pub(crate) fn wake(&self, n: usize) {
        let mut waiting = self.waiting.lock();
        for _ in 0..n {
            match waiting.remove(0) {
                Ok(conn) => conn.kick(),
                Err(_) => break,
            }
        }
    }

    /// Queues a run of every waiting connection.
    pub(crate) fn wake_all(&self) {
        for conn in self.waiting.lock().drain_all() {
            conn.kick();
        }
    }

    /// Forgets every waiting connection (a stopped server, whose connections are closed):
    /// the references go, which the connections' references to the server would make a
    /// cycle of.
    pub(crate) fn clear(&self) {
        // Taken under the lock, dropped after it: a last reference may free a connection.
        let waiting = core::mem::take(&mut *self.waiting.lock());
        drop(waiting);
    }
}

/// What became of a request for a handshake.
enum Submitted {
    /// The agent has it.
    Started,
    /// The kernel's queue was full: the connection waits in the server's
    /// [`HandshakeQueue`].
    Queued,
    /// No handshake can start (no agent, no memory): counted, the connection closes.
    Failed,
}

/// Asks the agent for `conn`'s handshake on `stream`; if the kernel's queue of requests is
/// full, puts the connection in its server's [`HandshakeQueue`] (`first`: counted once).
#[cfg(CONFIG_TUX_HTTPS)]
fn submit(conn: &Arc<Connection>, stream: &mut TcpStream<Connection>, first: bool) -> Submitted {
    let stats = &conn.server.inst.stats;
    let timeout = u32::try_from(conn.server.config.handshake_ms).unwrap_or(u32::MAX);
    match stream.start_tls_server(timeout, conn.clone()) {
        Ok(()) => Submitted::Started,
        Err(e) if e == EAGAIN => {
            if conn.server.handshake_queue.push(conn.clone()).is_err() {
                stats.handshakes_failed.add(1, Relaxed);
                return Submitted::Failed;
            }
            if first {
                stats.handshakes_queued.add(1, Relaxed);
            }
            Submitted::Queued
        }
        Err(e) => {
            stats.handshakes_failed.add(1, Relaxed);
            pr_debug!("no TLS handshake: error {}\n", e.to_errno());
            Submitted::Failed
        }
    }
}

/// Without `CONFIG_TUX_HTTPS` no server has an HTTPS listener.
#[cfg(not(CONFIG_TUX_HTTPS))]
fn submit(conn: &Arc<Connection>, _stream: &mut TcpStream<Connection>, _first: bool) -> Submitted {
    conn.server.inst.stats.handshakes_failed.add(1, Relaxed);
    Submitted::Failed
}

/// Hands the new HTTPS connection `conn`'s `stream` to the handshake agent (or to the
/// server's [`HandshakeQueue`], to wait for room) and keeps it in `inner`, with the
/// handshake's deadline, for the wait and the handshake together. Gives the stream back
/// if no handshake can start (no agent), counted: the caller closes it.
pub(super) fn start(
    conn: &Arc<Connection>,
    inner: &mut Inner,
    mut stream: TcpStream<Connection>,
) -> Result<(), TcpStream<Connection>> {
    conn.set_deadline(conn.server.config.handshake_ms);
    // The caller holds the connection's lock: a run that a wake-up of the queue queues
    // waits for it, and finds the stream in place.
    inner.tls = match submit(conn, &mut stream, true) {
        Submitted::Started => Tls::Handshaking,
        Submitted::Queued => Tls::Queued,
        Submitted::Failed => return Err(stream),
    };
    inner.stream = Some(stream);
    Ok(())
}

impl Inner {
    /// A run of a connection whose handshake has not ended: one waiting in the queue tries
    /// again; for one with the agent, the agent reported, or the run is spurious.
    pub(super) fn finish_handshake(&mut self, conn: &Arc<Connection>) -> Step {
        if self.tls == Tls::Queued {
            let Some(stream) = self.stream.as_mut() else {
                return Step::Close;
            };
            return match submit(conn, stream, false) {
                Submitted::Started => {
                    self.tls = Tls::Handshaking;
                    Step::Wait
                }
                Submitted::Queued => Step::Wait,
                Submitted::Failed => Step::Close,
            };
        }
        let stats = &conn.server.inst.stats;
        match conn.handshake.load(Acquire) {
            PENDING => Step::Wait,
            DONE => {
                let Some(stream) = self.stream.as_mut() else {
                    return Step::Close;
                };
                // kTLS is attached now: the trampolines call its callbacks after ours.
                if stream.set_events(conn.clone()).is_err() {
                    stats.errors.add(1, Relaxed);
                    return Step::Close;
                }
                self.tls = Tls::Established;
                stats.handshakes_ok.add(1, Relaxed);
                conn.set_deadline_from(self.batch_ms, conn.server.config.header_ms);
                self.drive(conn)
            }
            _ => {
                stats.handshakes_failed.add(1, Relaxed);
                Step::Close
            }
        }
    }

    /// Tells the client of an HTTPS connection that no more data follows, as TLS requires
    /// before a party closes its side: a close_notify alert, once, before the connection
    /// closes or shuts its sending side down. Without it a client cannot tell the end of
    /// the connection from a truncation by an attacker. Best effort: a full send buffer
    /// or a connection already broken goes without.
    pub(super) fn close_notify(&mut self) {
        if self.tls != Tls::Established {
            return;
        }
        self.tls = Tls::Notified;
        if let Some(stream) = self.stream.as_ref() {
            let _ = stream.send_record(RECORD_ALERT, &ALERT_CLOSE_NOTIFY);
        }
    }
}

/// Receives request bytes from `stream`. Through kTLS only application data counts: any
/// other record (an alert: a close_notify, or an error) ends the connection, as end of
/// stream, and so does a record that does not decrypt; both are counted.
pub(super) fn recv(
    stream: &TcpStream<Connection>,
    tls: &Tls,
    buf: &mut [u8],
    stats: &Stats,
) -> Result<usize> {
    if !tls.is_established() {
        return stream.recv(buf);
    }
    match stream.recv_record(buf) {
        Ok((n, RECORD_DATA)) => Ok(n),
        Ok(_) => {
            stats.tls_closes.add(1, Relaxed);
            Ok(0)
        }
        Err(e) if e == EAGAIN => Err(e),
        Err(e) => {
            stats.tls_closes.add(1, Relaxed);
            Err(e)
        }
    }
}
