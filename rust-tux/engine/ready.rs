// SPDX-License-Identifier: GPL-2.0

//! A lock-free list of ready items, like the C `llist`.
//!
//! Many producers (socket callbacks, in softirq or process context, and `tux(2)` callers)
//! push; one consumer, a server thread, takes the whole list at once and serves it in the
//! order it was filled. A push is one compare-and-exchange, a take one exchange: no lock
//! is shared between softirq and the thread, and nothing is allocated.
//!
//! An item is on at most one list, at most once: its [`Link`] says whether it is queued,
//! and pushing a queued item does nothing, as it is going to be served anyway. The
//! consumer marks an item unqueued before it serves it, so an event during the service
//! queues it again.

use core::ptr;
use kernel::sync::{
    atomic::{Acquire, Atomic, Full, Relaxed},
    Arc, ArcBorrow,
};

/// The list's part of an item.
pub(crate) struct Link<T> {
    /// Whether the item is on a list, or being put on one.
    queued: Atomic<bool>,
    /// The item after this one. Written by the producer that set `queued` and by the
    /// consumer that took the item, never by both at once.
    next: Atomic<*mut T>,
}

impl<T> Link<T> {
    /// A link of an item on no list.
    pub(crate) fn new() -> Self {
        Self {
            queued: Atomic::new(false),
            next: Atomic::new(ptr::null_mut()),
        }
    }
}

/// An item that can be on a [`ReadyList`].
///
/// # Safety
///
/// `link` returns the same [`Link`], a field of `self`, on every call.
pub(crate) unsafe trait Linked: Sized + Send + Sync {
    /// The item's link.
    fn link(&self) -> &Link<Self>;
}

/// A list of ready items.
///
/// # Invariants
///
/// `head` is null (empty), [`closed`] (closed), or the newest of a chain of pointers,
/// linked through their items' `next`, each of which came from [`Arc::into_raw`] and is a
/// reference the list owns; every item on the chain has `queued` set.
pub(crate) struct ReadyList<T: Linked> {
    head: Atomic<*mut T>,
}

/// The head of a closed list: not null, and never an item's address (no `Arc`'s contents
/// start at the lowest aligned address).
fn closed<T>() -> *mut T {
    ptr::dangling_mut()
}

impl<T: Linked> ReadyList<T> {
    /// An empty list.
    pub(crate) fn new() -> Self {
        // INVARIANT: The list is empty.
        Self {
            head: Atomic::new(ptr::null_mut()),
        }
    }

    /// Queues `item` unless it is queued already or the list is closed. Returns whether
    /// the list was empty before: the consumer may be asleep and need a wake-up.
    ///
    /// Fully ordered: what the caller wrote before is seen by the consumer once it has
    /// taken the item, and what the caller reads afterwards (the consumer's idle flag) is
    /// read after the item was published.
    pub(crate) fn push(&self, item: ArcBorrow<'_, T>) -> bool {
        let link = item.link();
        if link.queued.xchg(true, Full) {
            return false;
        }
        let new = Arc::into_raw(Arc::from(item)).cast_mut();
        let mut head = self.head.load(Relaxed);
        loop {
            if head == closed() {
                // Nobody will take it: give the reference back, and the item is on no list.
                // SAFETY: `new` came from `Arc::into_raw` just above and was not published.
                drop(unsafe { Arc::from_raw(new) });
                link.queued.xchg(false, Full);
                return false;
            }
            link.next.store(head, Relaxed);
            // INVARIANT: `new` is an owned reference with `queued` set, linked to the
            // previous chain.
            match self.head.cmpxchg(head, new, Full) {
                Ok(_) => return head.is_null(),
                Err(current) => head = current,
            }
        }
    }

    /// Whether the list has nothing to take.
    pub(crate) fn is_empty(&self) -> bool {
        let head = self.head.load(Relaxed);
        head.is_null() || head == closed()
    }

    /// Takes every queued item, oldest first.
    pub(crate) fn take_all(&self) -> Batch<T> {
        self.take_and_leave(ptr::null_mut())
    }

    /// Takes every queued item and closes the list: further pushes are refused.
    pub(crate) fn close(&self) -> Batch<T> {
        self.take_and_leave(closed())
    }

    fn take_and_leave(&self, leave: *mut T) -> Batch<T> {
        let mut chain = self.head.xchg(leave, Acquire);
        if chain == closed() {
            chain = ptr::null_mut();
        }
        // Reverse the chain (newest first) into the order it was filled.
        let mut oldest = ptr::null_mut();
        while !chain.is_null() {
            // SAFETY: By the type invariants, `chain` is a live item the list owned and we
            // own now; its `next` is ours to change until it is unqueued.
            let link = unsafe { &*chain }.link();
            let next = link.next.load(Relaxed);
            link.next.store(oldest, Relaxed);
            oldest = chain;
            chain = next;
        }
        // INVARIANT: `oldest` is a chain of owned references, oldest first.
        Batch { next: oldest }
    }
}

impl<T: Linked> Drop for ReadyList<T> {
    fn drop(&mut self) {
        drop(self.close());
    }
}

/// Items taken from a [`ReadyList`], oldest first.
///
/// # Invariants
///
/// `next` is null or a chain, linked through `next`, of references from [`Arc::into_raw`]
/// that the batch owns, of items with `queued` set.
pub(crate) struct Batch<T: Linked> {
    next: *mut T,
}

impl<T: Linked> Iterator for Batch<T> {
    type Item = Arc<T>;

    /// The next item, marked unqueued: from now on a push queues it again.
    fn next(&mut self) -> Option<Arc<T>> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: By the type invariants, `self.next` is a reference the batch owns; it is
        // given to the caller, and removed from the chain below.
        let item = unsafe { Arc::from_raw(self.next) };
        let link = item.link();
        // INVARIANT: The rest of the chain.
        self.next = link.next.load(Relaxed);
        // Fully ordered: what the consumer reads next (the socket) is read after the flag
        // was cleared, so an event it misses queues the item again.
        link.queued.xchg(false, Full);
        Some(item)
    }
}

impl<T: Linked> Drop for Batch<T> {
    fn drop(&mut self) {
        for item in self.by_ref() {
            drop(item);
        }
    }
}

// SAFETY: The batch owns `Arc<T>`s, which may be sent when `T: Send + Sync` (`Linked`).
unsafe impl<T: Linked> Send for Batch<T> {}
