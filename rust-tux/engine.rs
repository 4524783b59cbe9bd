// SPDX-License-Identifier: GPL-2.0

//! The engine: one server thread per CPU, each serving the connections it accepted.
//!
//! Socket callbacks do no work: a connection's callback puts the connection on its
//! thread's [`ReadyList`] and wakes the thread only if it sleeps; the listener's callback
//! flags that connections wait to be accepted and wakes a sleeping thread. A thread
//! drains its list in batches — accept, then serve each ready connection until it would
//! block or has used its share ([`crate::conn`] yields then), `cond_resched()` between —
//! and sleeps when nothing is left. Under load one wake-up serves many connections.
//!
//! A connection stays with the thread that accepted it. The listener's wake-ups go round
//! the sleeping threads and each accepts at most [`ACCEPT_BATCH`] connections before
//! passing the rest on, so the connections spread over the CPUs even when every packet
//! arrives on one (a single-queue NIC, or loopback, where that CPU is the client's).
//!
//! A thread blocks while a lookup or a page-cache miss waits for the disk, and the other
//! connections of its CPU wait with it; a document root on a slow disk wants its files
//! in the page cache.

mod ready;

use crate::{clock, conn::Connection, server::Shared};
use kernel::{
    cpu::CpuId,
    kthread::{self, Context, KThread},
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Full, Relaxed},
        Arc, ArcBorrow, SetOnce,
    },
    task::Task,
};
use ready::ReadyList;
pub(crate) use ready::{Link, Linked};

/// Connections a thread accepts before leaving the rest to another thread.
pub(crate) const ACCEPT_BATCH: usize = 8;

/// The server threads' nice value: ahead of ordinary tasks (a web server's clients wait
/// on it), behind real-time ones; never a real-time class, which a busy server would use
/// to starve the machine.
const NICE: i32 = -5;

/// What a server thread serves, shared with the connections it accepted.
pub(crate) struct Worker {
    /// The CPU its thread is bound to.
    cpu: CpuId,
    /// Connections with something to do.
    ready: ReadyList<Connection>,
    /// The thread is asleep or going to sleep: whoever gives it work wakes it.
    idle: Atomic<bool>,
    /// The thread, once started.
    task: SetOnce<ARef<Task>>,
    /// Monotonic milliseconds, read once per batch: what the batch's connections
    /// reckon their timeouts from.
    batch_ms: Atomic<i64>,
}

impl Worker {
    fn new(cpu: CpuId) -> Result<Arc<Self>> {
        Ok(Arc::new(
            Worker {
                cpu,
                ready: ReadyList::new(),
                idle: Atomic::new(false),
                task: SetOnce::new(),
                batch_ms: Atomic::new(clock::monotonic_ms()),
            },
            GFP_KERNEL,
        )?)
    }

    /// Queues `conn` for its next run and wakes the thread if it sleeps.
    pub(crate) fn schedule(&self, conn: ArcBorrow<'_, Connection>) {
        // The push is fully ordered: `idle` is read after the connection was published.
        if self.ready.push(conn) && self.idle.load(Relaxed) {
            self.wake();
        }
    }

    /// The time at the start of the current batch, monotonic milliseconds.
    pub(crate) fn batch_ms(&self) -> i64 {
        self.batch_ms.load(Relaxed)
    }

    /// Starts a batch: reads the clock.
    fn tick(&self) {
        self.batch_ms.store(clock::monotonic_ms(), Relaxed);
    }

    fn wake(&self) {
        if let Some(task) = self.task.as_ref() {
            task.wake_up();
        }
    }

    /// Closes the list and runs what it held. For a stopped server, whose threads are gone.
    fn drain(&self) {
        self.tick();
        for conn in self.ready.close() {
            Connection::run(conn);
        }
    }
}

/// The server threads of a running server; dropping it stops them (and waits for them).
pub(crate) struct Threads {
    /// Held for their drop, which stops them.
    _threads: KVec<KThread>,
}

impl Threads {
    /// Makes a worker for every online CPU, for a server to be made with them.
    pub(crate) fn workers() -> Result<KVec<Arc<Worker>>> {
        let mut workers = KVec::new();
        for cpu in kthread::online_cpus() {
            workers.push(Worker::new(cpu)?, GFP_KERNEL)?;
        }
        Ok(workers)
    }

    /// Starts one thread for each of `shared`'s workers, bound to the worker's CPU.
    pub(crate) fn start(shared: &Arc<Shared>) -> Result<Self> {
        let mut threads = KVec::with_capacity(shared.workers.len(), GFP_KERNEL)?;
        for worker in shared.workers.iter() {
            let (s, w) = (shared.clone(), worker.clone());
            let thread = KThread::new_on_cpu(c"tux", worker.cpu, move |ctx| serve(ctx, &s, &w))
                .inspect_err(|e| {
                    pr_err!(
                        "cannot start the server thread of CPU {}: error {}\n",
                        worker.cpu.as_u32(),
                        e.to_errno()
                    )
                })?;
            thread.set_nice(NICE);
            worker.task.populate(ARef::from(thread.task()));
            threads.push(thread, GFP_KERNEL)?;
        }
        Ok(Self { _threads: threads })
    }
}

/// Closes the lists of a server whose threads are stopped, after running what is on them:
/// connections queued afterwards are not run again. The server's stop has expired every
/// connection first, so each of these runs closes one.
pub(crate) fn close_lists(shared: &Shared) {
    for w in shared.workers.iter() {
        w.drain();
    }
}

/// Wakes a sleeping server thread of `shared` to accept, starting the search after the
/// last one woken, so that the connections spread over the threads.
pub(crate) fn wake_acceptor(shared: &Shared) {
    let n = shared.workers.len();
    if n == 0 {
        return;
    }
    let start = shared.next_acceptor.fetch_add(1, Relaxed);
    for k in 0..n {
        let i = start.wrapping_add(k) % n;
        if let Some(w) = shared.workers.get(i) {
            if w.idle.load(Relaxed) {
                w.wake();
                return;
            }
        }
    }
    // Every thread is busy: each looks at `accept_pending` before it sleeps.
}

/// A server thread: accepts and serves until its server stops.
fn serve(ctx: &Context, shared: &Arc<Shared>, me: &Arc<Worker>) {
    while !ctx.should_stop() {
        me.tick();
        if shared.accept_pending.xchg(false, Full) {
            shared.accept_some(me);
        }
        for conn in me.ready.take_all() {
            Connection::run(conn);
            ctx.cond_resched();
        }
        ctx.sleep_unless(|| {
            // Fully ordered against `schedule` and the listener's callback: either they
            // see `idle` and wake us, or we see their work here.
            me.idle.xchg(true, Full);
            let busy = shared.accept_pending.load(Relaxed) || !me.ready.is_empty();
            if busy {
                me.idle.store(false, Relaxed);
            }
            busy
        });
        me.idle.store(false, Relaxed);
    }
}

#[cfg(CONFIG_TUX_KUNIT_TEST)]
#[kunit_tests(tux_engine)]
mod tests {
    use super::ready::{Link, Linked, ReadyList};
    use kernel::{
        kthread::{self, KThread},
        prelude::*,
        sync::{
            atomic::{Atomic, Full, Relaxed},
            Arc, Completion,
        },
    };

    struct Item {
        link: Link<Item>,
        id: u32,
        drops: Arc<Atomic<u32>>,
    }

    impl Drop for Item {
        fn drop(&mut self) {
            self.drops.add(1, Relaxed);
        }
    }

    // SAFETY: `link` always returns the same field of `self`.
    unsafe impl Linked for Item {
        fn link(&self) -> &Link<Self> {
            &self.link
        }
    }

    fn item(id: u32, drops: &Arc<Atomic<u32>>) -> Result<Arc<Item>> {
        Ok(Arc::new(
            Item {
                link: Link::new(),
                id,
                drops: drops.clone(),
            },
            GFP_KERNEL,
        )?)
    }

    fn ids(list: &ReadyList<Item>) -> Result<KVec<u32>> {
        let mut v = KVec::new();
        for i in list.take_all() {
            v.push(i.id, GFP_KERNEL)?;
        }
        Ok(v)
    }

    #[test]
    fn list_is_fifo_and_holds_an_item_once() -> Result {
        let drops = Arc::new(Atomic::new(0u32), GFP_KERNEL)?;
        let (a, b, c) = (item(1, &drops)?, item(2, &drops)?, item(3, &drops)?);
        let list = ReadyList::new();
        // The first push finds the list empty.
        assert!(list.push(a.as_arc_borrow()));
        assert!(!list.push(b.as_arc_borrow()));
        // A queued item is not queued again.
        assert!(!list.push(a.as_arc_borrow()));
        assert!(!list.push(c.as_arc_borrow()));
        assert_eq!(&ids(&list)?[..], &[1, 2, 3][..]);
        assert!(list.is_empty());
        // Taken items can be queued again.
        assert!(list.push(b.as_arc_borrow()));
        assert!(!list.push(a.as_arc_borrow()));
        assert_eq!(&ids(&list)?[..], &[2, 1][..]);
        // A list dropped with items on it gives their references back.
        list.push(c.as_arc_borrow());
        drop(list);
        drop((a, b, c));
        assert_eq!(drops.load(Relaxed), 3);
        Ok(())
    }

    #[test]
    fn closed_list_refuses_and_keeps_nothing() -> Result {
        let drops = Arc::new(Atomic::new(0u32), GFP_KERNEL)?;
        let (a, b) = (item(1, &drops)?, item(2, &drops)?);
        let list = ReadyList::new();
        list.push(a.as_arc_borrow());
        assert_eq!(list.close().count(), 1);
        assert!(!list.push(b.as_arc_borrow()));
        assert!(!list.push(a.as_arc_borrow()));
        assert!(list.is_empty());
        assert_eq!(list.take_all().count(), 0);
        drop((a, b));
        // A refused push keeps no reference.
        assert_eq!(drops.load(Relaxed), 2);
        Ok(())
    }

    /// Dropped when the thread's closure is: the handle's drop must have freed it.
    struct Token(Arc<Atomic<u32>>);

    impl Drop for Token {
        fn drop(&mut self) {
            self.0.add(1, Relaxed);
        }
    }

    #[test]
    fn thread_sleeps_until_woken_and_stops() -> Result {
        let cpu = kthread::online_cpus().next().ok_or(EINVAL)?;
        let drops = Arc::new(Atomic::new(0u32), GFP_KERNEL)?;
        let work = Arc::new(Atomic::new(false), GFP_KERNEL)?;
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let (token, w, d) = (Token(drops.clone()), work.clone(), done.clone());
        let thread = KThread::new_on_cpu(c"tux-test", cpu, move |ctx| {
            let _token = token;
            while !ctx.should_stop() {
                ctx.sleep_unless(|| w.load(Relaxed));
                if w.xchg(false, Full) {
                    d.complete_all();
                }
            }
        })?;
        work.store(true, kernel::sync::atomic::Release);
        thread.task().wake_up();
        done.wait_for_completion();
        assert_eq!(drops.load(Relaxed), 0);
        drop(thread);
        // The closure is gone with its handle.
        assert_eq!(drops.load(Relaxed), 1);

        // Stopped at once, perhaps before it ever ran: the closure is freed all the same.
        let token = Token(drops.clone());
        let thread = KThread::new_on_cpu(c"tux-test", cpu, move |_ctx| drop(token))?;
        drop(thread);
        assert_eq!(drops.load(Relaxed), 2);
        Ok(())
    }
}
