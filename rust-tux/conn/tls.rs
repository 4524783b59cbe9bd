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
    prelude::*,
    sync::{
        atomic::{Acquire, Relaxed, Release},
        Arc,
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
    /// HTTPS, waiting for the agent.
    Handshaking,
    /// HTTPS through kTLS.
    Established,
    /// HTTPS through kTLS, and TUX sent its close_notify: it sends no more.
    Notified,
}

impl Tls {
    pub(super) fn is_handshaking(self) -> bool {
        self == Tls::Handshaking
    }

    pub(super) fn is_established(self) -> bool {
        matches!(self, Tls::Established | Tls::Notified)
    }

    /// The connection is closing (expired: its deadline passed, or the server stops): one
    /// whose handshake had not ended is counted as timed out.
    pub(super) fn closing(self, conn: &Connection) {
        if self.is_handshaking() && conn.handshake.load(Acquire) == PENDING {
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
    }
}

/// Hands the new HTTPS connection `conn`'s `stream` to the handshake agent and keeps it
/// in `inner`, with the handshake's deadline. Gives the stream back if no handshake could
/// start (no agent, too many pending), counted: the caller closes it.
#[cfg(CONFIG_TUX_HTTPS)]
pub(super) fn start(
    conn: &Arc<Connection>,
    inner: &mut Inner,
    mut stream: TcpStream<Connection>,
) -> Result<(), TcpStream<Connection>> {
    let cfg = &conn.server.config;
    let timeout = u32::try_from(cfg.handshake_ms).unwrap_or(u32::MAX);
    conn.set_deadline(cfg.handshake_ms);
    match stream.start_tls_server(timeout, conn.clone()) {
        Ok(()) => {
            inner.tls = Tls::Handshaking;
            inner.stream = Some(stream);
            Ok(())
        }
        Err(e) => {
            conn.server.inst.stats.handshakes_failed.add(1, Relaxed);
            pr_debug!("no TLS handshake: error {}\n", e.to_errno());
            Err(stream)
        }
    }
}

/// Without `CONFIG_TUX_HTTPS` no server has an HTTPS listener.
#[cfg(not(CONFIG_TUX_HTTPS))]
pub(super) fn start(
    conn: &Arc<Connection>,
    _inner: &mut Inner,
    stream: TcpStream<Connection>,
) -> Result<(), TcpStream<Connection>> {
    conn.server.inst.stats.handshakes_failed.add(1, Relaxed);
    Err(stream)
}

impl Inner {
    /// A run while the handshake was under way: the agent reported, or the run is
    /// spurious.
    pub(super) fn finish_handshake(&mut self, conn: &Arc<Connection>) -> Step {
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
}

impl Inner {
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
