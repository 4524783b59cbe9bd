// SPDX-License-Identifier: GPL-2.0

//! The table of a server's open connections.
//!
//! It enforces the two limits on open connections, `max_connect` in all and
//! `max_connect_per_source` from one client address (so that one client
//! cannot hold every slot; for IPv6, one /64 network, see [`Source`]), and
//! gives the sweeper and `stop` the connections to walk. Adding and removing
//! a connection cost O(log n) (the per-address counts are a red-black tree);
//! no operation scans the table.

use crate::config::Config;
use crate::conn::Connection;
use core::net::IpAddr;
use kernel::{
    prelude::*,
    rbtree::{self, RBTree, RBTreeNodeReservation},
    sync::Arc,
};

/// Why a connection is not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `max_connect` connections are open.
    Full,
    /// `max_connect_per_source` connections from this address are open.
    SourceFull,
}

/// What the per-source limit counts connections by.
///
/// An IPv4 client is its address. An IPv6 client is its /64 network: a host is
/// normally given a whole /64 and may pick any address in it (privacy
/// addresses change by the hour), so counting addresses would let one client
/// take every slot. IPv4 clients of the dual-stack listener arrive here as
/// IPv4 (`TcpStream::peer_addr()`), so they are counted with IPv4 ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    V4(u32),
    V6Net(u64),
}

impl Source {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::V4(a.to_bits()),
            // The top 64 bits: the shift leaves nothing for `as` to cut.
            IpAddr::V6(a) => Self::V6Net((a.to_bits() >> 64) as u64),
        }
    }
}

/// The open connections of one server run.
///
/// # Invariants
///
/// For every `i`, `list[i].slot() == i`; `per_source` maps each address to the
/// number of connections in `list` whose source it is, and holds no zero count.
pub(crate) struct Conns {
    list: KVec<Arc<Connection>>,
    per_source: RBTree<Source, u32>,
}

impl Conns {
    pub(crate) fn new() -> Self {
        // INVARIANT: both are empty.
        Self {
            list: KVec::new(),
            per_source: RBTree::new(),
        }
    }

    /// The open connections.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Connection>> {
        self.list.iter()
    }

    /// Whether one more connection from `source` is within the limits of `cfg`.
    pub(crate) fn admit(&self, source: Source, cfg: &Config) -> Result<(), Refusal> {
        if self.list.len() >= cfg.max_connect {
            return Err(Refusal::Full);
        }
        let per_source = cfg.max_connect_per_source;
        let from_source = self.per_source.get(&source).copied().unwrap_or(0);
        if per_source != 0 && from_source as usize >= per_source {
            return Err(Refusal::SourceFull);
        }
        Ok(())
    }

    /// Adds `conn`, whose client address is `conn.source()`.
    pub(crate) fn insert(&mut self, conn: Arc<Connection>) -> Result {
        let source = Source::of(conn.source());
        // Allocate first: nothing changes on failure.
        let reservation = RBTreeNodeReservation::new(GFP_KERNEL)?;
        self.list.reserve(1, GFP_KERNEL)?;
        conn.set_slot(self.list.len());
        // INVARIANT: the capacity is reserved, so the push succeeds; `conn` is at the
        // slot it was given, and its address is counted once more.
        self.list.push(conn, GFP_KERNEL)?;
        match self.per_source.entry(source) {
            rbtree::Entry::Occupied(mut o) => *o.get_mut() = o.get_mut().saturating_add(1),
            rbtree::Entry::Vacant(v) => {
                v.insert(1, reservation);
            }
        }
        Ok(())
    }

    /// Removes `conn` if it is in the table; returns whether it was.
    pub(crate) fn remove(&mut self, conn: &Connection) -> bool {
        let i = conn.slot();
        let here = self
            .list
            .get(i)
            .is_some_and(|c| core::ptr::eq::<Connection>(&**c, conn));
        if !here {
            return false;
        }
        // Move the last connection into the freed slot.
        let last = self.list.len().saturating_sub(1);
        self.list.swap(i, last);
        let Some(gone) = self.list.pop() else {
            return false;
        };
        if let Some(moved) = self.list.get(i) {
            moved.set_slot(i);
        }
        // INVARIANT: the moved connection knows its new slot; the count of the removed
        // one's address goes down, and goes away at zero.
        if let rbtree::Entry::Occupied(mut o) = self.per_source.entry(Source::of(gone.source())) {
            if *o.get_mut() <= 1 {
                let _ = o.remove();
            } else {
                *o.get_mut() -= 1;
            }
        }
        true
    }

    /// Empties the table, returning its connections.
    pub(crate) fn take_all(&mut self) -> KVec<Arc<Connection>> {
        // INVARIANT: both become empty.
        self.per_source = RBTree::new();
        core::mem::take(&mut self.list)
    }
}
