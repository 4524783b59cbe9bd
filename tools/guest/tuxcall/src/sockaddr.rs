// SPDX-License-Identifier: GPL-2.0

//! Socket addresses in the form `bind(2)` and `connect(2)` take, for the
//! guest tools that need a chosen address (`srcconns`, `listen1`).

use std::mem::{size_of, zeroed};
use std::net::SocketAddr;

/// `a` as a `sockaddr_in` or `sockaddr_in6`, in storage, with its length.
pub fn sockaddr(a: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    match a {
        SocketAddr::V4(a) => {
            // SAFETY: the storage is large and aligned enough for any sockaddr.
            let sa = unsafe { &mut *(&raw mut ss).cast::<libc::sockaddr_in>() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = a.port().to_be();
            sa.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            (ss, size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let sa = unsafe { &mut *(&raw mut ss).cast::<libc::sockaddr_in6>() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = a.port().to_be();
            sa.sin6_addr.s6_addr = a.ip().octets();
            (ss, size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
    }
}
