// SPDX-License-Identifier: GPL-2.0

//! Counters of a namespace's TUX, shown in its `/proc/net/tux/stats`.

use crate::netns::Instance;
use kernel::{
    bindings,
    net::namespace::Namespace,
    prelude::*,
    seq_file::{seq_print, SeqFile},
    sync::atomic::{Atomic, Relaxed},
};

/// Server counters. Relaxed atomics: each is exact, the set is not a snapshot.
pub(crate) struct Stats {
    pub(crate) connections_total: Atomic<u64>,
    pub(crate) connections_open: Atomic<i64>,
    pub(crate) refused: Atomic<u64>,
    pub(crate) timeouts: Atomic<u64>,
    pub(crate) errors: Atomic<u64>,
    pub(crate) requests: Atomic<u64>,
    /// Responses by status class: 1xx .. 5xx.
    pub(crate) status: [Atomic<u64>; 5],
    pub(crate) bytes_sent: Atomic<u64>,
    pub(crate) bytes_received: Atomic<u64>,
    pub(crate) logged: Atomic<u64>,
    pub(crate) log_dropped: Atomic<u64>,
    /// Requests queued to userspace modules.
    pub(crate) module_requests: Atomic<u64>,
    /// Module requests answered by the kernel: owner gone, timeout, unregistered.
    pub(crate) module_aborted: Atomic<u64>,
    /// Connections refused because their client address had
    /// `max_connect_per_source` open.
    pub(crate) refused_per_source: Atomic<u64>,
    /// Connections moved to the fallback server.
    pub(crate) handoffs: Atomic<u64>,
    /// Hand-offs refused because the listener on clientport may not have the
    /// connection (another family, an untrusted owner); TUX answered instead.
    pub(crate) handoffs_refused: Atomic<u64>,
    /// Connections that read on after an error response and its FIN, instead of
    /// closing on unread data (which resets the connection).
    pub(crate) lingering_closes: Atomic<u64>,
    /// HTTPS connections whose TLS handshake succeeded.
    pub(crate) handshakes_ok: Atomic<u64>,
    /// HTTPS connections whose handshake failed, or could not start (no agent).
    pub(crate) handshakes_failed: Atomic<u64>,
    /// HTTPS connections closed before their handshake ended (its timeout, or a stop).
    pub(crate) handshakes_timed_out: Atomic<u64>,
    /// Handshakes that waited for room in the kernel's queue of requests for the agent.
    pub(crate) handshakes_queued: Atomic<u64>,
    /// TLS records other than data received (alerts: a close_notify ends a connection)
    /// and records that failed to decrypt.
    pub(crate) tls_closes: Atomic<u64>,
}

impl Stats {
    /// All zero.
    pub(crate) const fn new() -> Self {
        Stats {
            connections_total: Atomic::new(0),
            connections_open: Atomic::new(0),
            refused: Atomic::new(0),
            timeouts: Atomic::new(0),
            errors: Atomic::new(0),
            requests: Atomic::new(0),
            status: [
                Atomic::new(0),
                Atomic::new(0),
                Atomic::new(0),
                Atomic::new(0),
                Atomic::new(0),
            ],
            bytes_sent: Atomic::new(0),
            bytes_received: Atomic::new(0),
            logged: Atomic::new(0),
            log_dropped: Atomic::new(0),
            module_requests: Atomic::new(0),
            module_aborted: Atomic::new(0),
            refused_per_source: Atomic::new(0),
            handoffs: Atomic::new(0),
            handoffs_refused: Atomic::new(0),
            lingering_closes: Atomic::new(0),
            handshakes_ok: Atomic::new(0),
            handshakes_failed: Atomic::new(0),
            handshakes_timed_out: Atomic::new(0),
            handshakes_queued: Atomic::new(0),
            tls_closes: Atomic::new(0),
        }
    }

    /// Counts a response with this status code.
    pub(crate) fn response(&self, code: u16) {
        let class = usize::from(code / 100).saturating_sub(1);
        if let Some(c) = self.status.get(class) {
            c.add(1, Relaxed);
        }
    }
}

/// `show` callback of `/proc/net/tux/stats`, called by `control.c`.
///
/// # Safety
///
/// `net` must be a live network namespace (its `/proc/net/tux/stats` is being read),
/// and `m` a valid `seq_file` being shown, as procfs passes it.
#[no_mangle]
pub(crate) unsafe extern "C" fn tux_stats_show(
    net: *mut bindings::net,
    m: *mut bindings::seq_file,
) -> c_int {
    // SAFETY: procfs removes the file, and waits for its readers, before the
    // namespace goes.
    let net = unsafe { Namespace::from_raw(net) };
    // A namespace that never used TUX has no instance: its counters are all zero, and
    // reading them makes none.
    let inst = Instance::find(net);
    let zero = Stats::new();
    let s = inst.as_ref().map_or(&zero, |i| &i.stats);
    // SAFETY: procfs passes a valid seq_file, used only by this thread during the call.
    let m = unsafe { SeqFile::from_raw(m) };
    // One look at the server: "running" and "listening" agree.
    let listening = inst.as_ref().and_then(|i| {
        i.server
            .lock()
            .as_ref()
            .map(|s| (s.config().listen, s.config().https))
    });
    seq_print!(m, "running {}\n", u8::from(listening.is_some()));
    if let Some((addr, https)) = listening {
        // What the listener is bound to, which differs from the listen sysctl
        // when the default [::] fell back to 0.0.0.0 (no IPv6).
        seq_print!(m, "listening {}\n", crate::config::Shown(addr));
        if let Some(https) = https {
            seq_print!(m, "listening_https {}\n", crate::config::Shown(https));
        }
    }
    seq_print!(m, "connections_open {}\n", s.connections_open.load(Relaxed));
    seq_print!(
        m,
        "connections_total {}\n",
        s.connections_total.load(Relaxed)
    );
    seq_print!(m, "connections_refused {}\n", s.refused.load(Relaxed));
    seq_print!(
        m,
        "connections_refused_per_source {}\n",
        s.refused_per_source.load(Relaxed)
    );
    seq_print!(m, "timeouts {}\n", s.timeouts.load(Relaxed));
    seq_print!(m, "errors {}\n", s.errors.load(Relaxed));
    seq_print!(m, "requests {}\n", s.requests.load(Relaxed));
    for (i, c) in s.status.iter().enumerate() {
        seq_print!(m, "responses_{}xx {}\n", i + 1, c.load(Relaxed));
    }
    seq_print!(m, "bytes_sent {}\n", s.bytes_sent.load(Relaxed));
    seq_print!(m, "bytes_received {}\n", s.bytes_received.load(Relaxed));
    seq_print!(m, "log_lines {}\n", s.logged.load(Relaxed));
    seq_print!(m, "log_dropped {}\n", s.log_dropped.load(Relaxed));
    seq_print!(m, "module_requests {}\n", s.module_requests.load(Relaxed));
    seq_print!(m, "module_aborted {}\n", s.module_aborted.load(Relaxed));
    seq_print!(m, "handoffs {}\n", s.handoffs.load(Relaxed));
    seq_print!(m, "handoffs_refused {}\n", s.handoffs_refused.load(Relaxed));
    seq_print!(m, "lingering_closes {}\n", s.lingering_closes.load(Relaxed));
    seq_print!(m, "handshakes_ok {}\n", s.handshakes_ok.load(Relaxed));
    seq_print!(
        m,
        "handshakes_failed {}\n",
        s.handshakes_failed.load(Relaxed)
    );
    seq_print!(
        m,
        "handshakes_timed_out {}\n",
        s.handshakes_timed_out.load(Relaxed)
    );
    seq_print!(
        m,
        "handshakes_queued {}\n",
        s.handshakes_queued.load(Relaxed)
    );
    seq_print!(m, "tls_closes {}\n", s.tls_closes.load(Relaxed));
    if net.is_init() {
        // Network namespaces with TUX state, this one included: one goes when its
        // namespace does.
        seq_print!(m, "namespaces {}\n", crate::netns::count());
    }
    0
}
