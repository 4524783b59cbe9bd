// SPDX-License-Identifier: GPL-2.0

//! Typed server configuration.
//!
//! The values are validated where they enter the kernel (sysctl writes and
//! boot parameters, in `net/tux/control.c`); [`Config::snapshot`] copies a
//! consistent set of them when the server starts, so a running server never
//! sees a half-written configuration.

use crate::http::{parser::Limits, plan};
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use kernel::{bindings, net::namespace::Namespace, prelude::*, str::CStr};

/// A socket address for messages: `0.0.0.0:80`, `[::]:80`.
pub(crate) struct Shown(pub(crate) SocketAddr);

impl kernel::fmt::Display for Shown {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

/// The configuration of one server run.
pub(crate) struct Config {
    docroot: [u8; bindings::TUX_DOCROOT_MAX as usize],
    /// IPv6 (the default `[::]` takes IPv4 clients too) or IPv4.
    pub(crate) listen: SocketAddr,
    pub(crate) backlog: u32,
    /// Seconds a new connection may wait for its first bytes before it is accepted
    /// anyway (`TCP_DEFER_ACCEPT`); 0: accepted at once.
    pub(crate) defer_accept: u32,
    pub(crate) max_connect: usize,
    /// Most open connections from one client address; 0: no such limit.
    pub(crate) max_connect_per_source: usize,
    /// Idle time allowed between requests on a keep-alive connection, ms.
    pub(crate) keepalive_ms: i64,
    /// Time allowed to send a complete request head (and to make progress
    /// receiving a response), ms.
    pub(crate) header_ms: i64,
    pub(crate) limits: Limits,
    pub(crate) plan: plan::Config<'static>,
    pub(crate) mode_allowed: u16,
    pub(crate) mode_forbidden: u16,
    /// Record requests in `/proc/net/tux/log`.
    pub(crate) logging: bool,
    /// The port of the fallback userspace server (`clientport`); 0: none.
    pub(crate) clientport: u16,
    /// Time a module has to finish a request, ms (renewed by progress).
    pub(crate) module_ms: i64,
    /// The HTTPS listener's address (the listening address with `https_port`); `None`
    /// when `https_port` is 0.
    pub(crate) https: Option<SocketAddr>,
    /// Time an HTTPS client has for its TLS handshake, ms.
    pub(crate) handshake_ms: i64,
}

/// The listening address: `control.c` stores AF_INET or AF_INET6 with the
/// address in network order, and a port it checked to be 1..=65535.
fn listen_addr(raw: &bindings::tux_config) -> SocketAddr {
    let port = u16::try_from(raw.port).unwrap_or(0);
    if raw.listen_family == bindings::AF_INET {
        let [a, b, c, d, ..] = raw.listen_addr;
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port))
    } else {
        SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(raw.listen_addr),
            port,
            0,
            0,
        ))
    }
}

impl Config {
    /// Copies the current configuration of `net`.
    pub(crate) fn snapshot(net: &Namespace) -> Self {
        // SAFETY: `tux_config` is a plain C struct for which all zeroes is a valid value.
        let mut raw: bindings::tux_config = unsafe { core::mem::zeroed() };
        // SAFETY: `net` is alive while borrowed, and so is its TUX state (freed only when
        // the namespace goes); `raw` is a valid, writable `tux_config`.
        unsafe { bindings::tux_config_get(net.as_ptr(), &mut raw) };
        let mut docroot = [0u8; bindings::TUX_DOCROOT_MAX as usize];
        for (d, s) in docroot.iter_mut().zip(raw.docroot.iter()) {
            *d = *s;
        }
        // Always NUL-terminated, whatever C handed us.
        if let Some(last) = docroot.last_mut() {
            *last = 0;
        }
        let limits = Limits {
            max_head_bytes: raw.max_header_len as usize,
            max_request_line: core::cmp::min(
                Limits::DEFAULT.max_request_line,
                raw.max_header_len as usize,
            ),
            ..Limits::DEFAULT
        };
        Self {
            docroot,
            listen: listen_addr(&raw),
            backlog: raw.backlog,
            defer_accept: raw.defer_accept,
            max_connect: raw.max_connect as usize,
            max_connect_per_source: raw.max_connect_per_source as usize,
            keepalive_ms: i64::from(raw.keepalive_timeout).saturating_mul(1000),
            header_ms: i64::from(raw.header_timeout).saturating_mul(1000),
            limits,
            plan: plan::Config {
                generate_etags: raw.generate_etags != 0,
                virtual_server: raw.virtual_server != 0,
                compression: raw.compression != 0,
                keep_alive: raw.keepalive_timeout != 0,
                ..plan::Config::DEFAULT
            },
            mode_allowed: (raw.mode_allowed & 0o7777) as u16,
            mode_forbidden: (raw.mode_forbidden & 0o7777) as u16,
            logging: raw.logging != 0,
            clientport: u16::try_from(raw.clientport).unwrap_or(0),
            module_ms: i64::from(raw.module_timeout).saturating_mul(1000),
            https: match u16::try_from(raw.https_port) {
                Ok(0) | Err(_) => None,
                Ok(port) => {
                    let mut addr = listen_addr(&raw);
                    addr.set_port(port);
                    Some(addr)
                }
            },
            handshake_ms: i64::from(raw.handshake_timeout).saturating_mul(1000),
        }
    }

    /// The document root as a C string.
    pub(crate) fn docroot_cstr(&self) -> Result<&CStr> {
        let len = self.docroot.iter().position(|&b| b == 0).ok_or(EINVAL)?;
        let with_nul = self.docroot.get(..=len).ok_or(EINVAL)?;
        CStr::from_bytes_with_nul(with_nul).map_err(|_| EINVAL)
    }

    /// The document root for messages.
    pub(crate) fn docroot_str(&self) -> &str {
        let len = self.docroot.iter().position(|&b| b == 0).unwrap_or(0);
        self.docroot
            .get(..len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("?")
    }

    /// Whether a file with these permission bits may be served.
    pub(crate) fn mode_ok(&self, permissions: u16) -> bool {
        permissions & self.mode_allowed == self.mode_allowed
            && permissions & self.mode_forbidden == 0
    }
}
