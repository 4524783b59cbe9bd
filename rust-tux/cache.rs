// SPDX-License-Identifier: GPL-2.0

//! A cache of hot objects: name beneath the document root → looked-up path
//! and opened file.
//!
//! A hit saves the path walk and the open of a file that is requested
//! again and again. Coherence with file changes:
//!
//! - content, size, mtime and permission changes are seen at once: the
//!   attributes are read from the inode on every request, never cached;
//! - unlink, and replacement by rename, are seen at once: an entry whose
//!   dentry is unhashed, or that was filled before any rename in the
//!   system (the rename generation changed), is looked up again;
//! - anything else that can change where a name leads (a symbolic link
//!   retargeted, a mount beneath the document root) is seen within
//!   [`MAX_AGE_MS`], the most an entry is trusted.
//!
//! The cache is direct-mapped with [`SLOTS`] entries, so its memory is
//! bounded; negative lookups are not cached.
//!
//! An entry holds a dentry and an open file: a deleted file's space, or a
//! filesystem mounted beneath the document root, is not released while an
//! entry refers to it. So the sweeper drops every entry past [`MAX_AGE_MS`]
//! ([`ObjectCache::evict_stale`], within a second or two of its last use), and
//! stopping the server drops them all ([`ObjectCache::close`]).

use crate::{clock, http::plan::FieldsKey};
use kernel::{
    fs::{
        path::{rename_generation, Path},
        File,
    },
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Mutex,
    },
};

/// Number of entries.
pub(crate) const SLOTS: usize = 256;
/// Longest time an entry is used without a new lookup.
pub(crate) const MAX_AGE_MS: i64 = 1000;
/// Most bytes of response-head fields an entry keeps.
const FIELDS_MAX: usize = 384;

struct Entry {
    key: KVec<u8>,
    path: Path,
    file: Option<ARef<File>>,
    generation: u32,
    born_ms: i64,
    /// The fields of a `200` head describing the object (`http::plan::HeadFields`),
    /// once a response formatted them, and the object's state they describe.
    fields: Option<(FieldsKey, KVec<u8>)>,
}

impl Entry {
    /// Whether the entry may no longer be used at monotonic time `now` and rename
    /// generation `generation`.
    fn stale(&self, now: i64, generation: u32) -> bool {
        self.generation != generation
            || now.saturating_sub(self.born_ms) > MAX_AGE_MS
            || self.path.is_unlinked()
    }
}

/// The object cache of one server run.
#[pin_data]
pub(crate) struct ObjectCache {
    #[pin]
    slots: Mutex<KVec<Option<Entry>>>,
    /// Set when the server stops: nothing is cached any more.
    closed: Atomic<bool>,
}

/// A cached (or freshly looked-up) object.
pub(crate) struct Cached {
    pub(crate) path: Path,
    /// The object opened for reading, if it has been served before.
    pub(crate) file: Option<ARef<File>>,
}

fn slot_of(key: &[u8]) -> usize {
    // FNV-1a.
    let mut h: u32 = 0x811c_9dc5;
    for &b in key {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (h as usize) % SLOTS
}

impl ObjectCache {
    pub(crate) fn new() -> Result<impl PinInit<Self>> {
        let mut slots = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(pin_init!(ObjectCache {
            slots <- new_mutex!(slots),
            closed: Atomic::new(false),
        }))
    }

    /// Returns the valid entry for `key`, if any.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Cached> {
        let now = clock::monotonic_ms();
        let generation = rename_generation();
        let mut slots = self.slots.lock();
        let slot = slots.get_mut(slot_of(key))?;
        let entry = slot.as_ref()?;
        if entry.key.as_slice() != key {
            return None;
        }
        if entry.stale(now, generation) {
            // Stale: drop it after unlocking (dropping a path may sleep, but not under
            // this lock's other users' feet).
            let stale = slot.take();
            drop(slots);
            drop(stale);
            return None;
        }
        Some(Cached {
            path: entry.path.clone(),
            file: entry.file.clone(),
        })
    }

    /// Records `path` (and its opened `file`) under `key`, looked up while the rename
    /// generation was `generation`.
    pub(crate) fn put(&self, key: &[u8], generation: u32, path: &Path, file: Option<&ARef<File>>) {
        if self.closed.load(Relaxed) {
            return;
        }
        let Ok(mut k) = KVec::with_capacity(key.len(), GFP_KERNEL) else {
            return;
        };
        if k.extend_from_slice(key, GFP_KERNEL).is_err() {
            return;
        }
        let entry = Entry {
            key: k,
            path: path.clone(),
            file: file.cloned(),
            generation,
            born_ms: clock::monotonic_ms(),
            fields: None,
        };
        let old = {
            let mut slots = self.slots.lock();
            // Checked again under the lock: `close` empties every slot under it after
            // setting `closed`, so no entry is left behind.
            if self.closed.load(Relaxed) {
                return;
            }
            slots.get_mut(slot_of(key)).and_then(|s| s.replace(entry))
        };
        drop(old);
    }

    /// Copies the head fields kept with the entry for `key` into `out`; returns the
    /// object's state they describe and their length.
    pub(crate) fn fields(&self, key: &[u8], out: &mut [u8]) -> Option<(FieldsKey, usize)> {
        let slots = self.slots.lock();
        let entry = slots.get(slot_of(key))?.as_ref()?;
        if entry.key.as_slice() != key {
            return None;
        }
        let (state, bytes) = entry.fields.as_ref()?;
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some((*state, bytes.len()))
    }

    /// Keeps `fields`, describing the object in `state`, with the entry for `key` if
    /// there is one.
    pub(crate) fn set_fields(&self, key: &[u8], state: FieldsKey, fields: &[u8]) {
        if fields.len() > FIELDS_MAX {
            return;
        }
        let Ok(mut v) = KVec::with_capacity(fields.len(), GFP_KERNEL) else {
            return;
        };
        if v.extend_from_slice(fields, GFP_KERNEL).is_err() {
            return;
        }
        let old = {
            let mut slots = self.slots.lock();
            match slots.get_mut(slot_of(key)).and_then(|s| s.as_mut()) {
                Some(entry) if entry.key.as_slice() == key => entry.fields.replace((state, v)),
                _ => None,
            }
        };
        drop(old);
    }

    /// Drops every entry that may no longer be used (see [`Entry::stale`]): what an idle
    /// entry pins is released. Called by the sweeper, every second.
    pub(crate) fn evict_stale(&self) {
        let now = clock::monotonic_ms();
        let generation = rename_generation();
        self.drain(|e| e.stale(now, generation));
    }

    /// Drops every entry and caches nothing from now on: called when the server stops.
    pub(crate) fn close(&self) {
        self.closed.store(true, Relaxed);
        self.drain(|_| true);
    }

    /// Drops the entries for which `which` is true, one slot at a time: dropping a path
    /// or a file may sleep, so it happens after the lock is released.
    fn drain(&self, which: impl Fn(&Entry) -> bool) {
        for i in 0..SLOTS {
            let gone = {
                let mut slots = self.slots.lock();
                match slots.get_mut(i) {
                    Some(slot) if slot.as_ref().is_some_and(&which) => slot.take(),
                    _ => None,
                }
            };
            drop(gone);
        }
    }
}
