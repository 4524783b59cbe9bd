// SPDX-License-Identifier: GPL-2.0

//! The benchmark ceiling: the kernel's TCP stack with next to no server in it.
//!
//! **Bench-only code, not part of TUX** (`CONFIG_TUX_BENCH_CEILING`, a module). `make bench`
//! measures TUX against it to tell how much of the time is TUX's own: this module accepts
//! connections the way TUX does (socket callbacks queue a work item on a system workqueue,
//! non-blocking sockets, `TCP_NODELAY`) but never parses a request or touches a file. It
//! counts the ends of request heads (`CR LF CR LF`) and answers each with the same canned
//! response:
//!
//! | port       | body      | after the response |
//! |------------|-----------|--------------------|
//! | `port`     | 1 KiB     | keep the connection |
//! | `port + 1` | 16 KiB    | keep the connection |
//! | `port + 2` | 1 MiB     | keep the connection |
//! | `port + 3..=port + 5` | the same sizes | close |
//!
//! Bodies up to a page are copied from one buffer together with the head; larger bodies are
//! sent without copying, as TUX sends files: the socket takes references to a few zeroed pages
//! ([`TcpStream::send_pages`]).
//!
//! There are no limits and no timeouts: never load it on a machine that faces a network.

use core::net::{Ipv6Addr, SocketAddrV6};
use kernel::{
    alloc::flags::__GFP_ZERO,
    bindings,
    net::tcp::{SocketAddr, SocketEvents, TcpListener, TcpStream},
    new_mutex,
    page::{Page, PAGE_SIZE},
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, ArcBorrow, Mutex,
    },
    workqueue::{self, impl_has_work, new_work, Work, WorkItem},
};

module! {
    type: Ceiling,
    name: "tux_ceiling",
    authors: ["The tux developers"],
    description: "TUX benchmark ceiling: canned HTTP responses without parsing or files",
    license: "GPL",
    params: {
        port: u32 {
            default: 8000,
            description: "First of the six TCP ports (see the module's documentation)",
        },
    },
}

/// Body sizes, in port order.
const SIZES: [usize; 3] = [1024, 16 * 1024, 1024 * 1024];
/// Zeroed pages the large bodies are sent from (64 KiB per call).
const PAGES: usize = 16;
/// Bytes read per `recv`.
const INPUT: usize = 4096;

/// Connections alive, so that unloading waits for them.
static LIVE: Atomic<i64> = Atomic::new(0);

/// One listening port and what it answers.
#[pin_data]
struct Port {
    /// Head, followed by the body when the body fits in a page.
    canned: KVec<u8>,
    head_len: usize,
    body_len: usize,
    close: bool,
    pages: Arc<KVec<Page>>,
    #[pin]
    listener: Mutex<Option<TcpListener<Port>>>,
    #[pin]
    conns: Mutex<KVec<Arc<Conn>>>,
    stopping: Atomic<bool>,
    #[pin]
    accept: Work<Port>,
}

impl_has_work! {
    impl HasWork<Self> for Port { self.accept }
}

impl SocketEvents for Port {
    fn data_ready(this: ArcBorrow<'_, Self>) {
        let _ = workqueue::system().enqueue(Arc::<Port>::from(this));
    }
    fn write_space(_this: ArcBorrow<'_, Self>) {}
    fn state_change(_this: ArcBorrow<'_, Self>) {}
}

impl WorkItem for Port {
    type Pointer = Arc<Port>;

    fn run(this: Arc<Port>) {
        let guard = this.listener.lock();
        let Some(listener) = guard.as_ref() else {
            return;
        };
        while !this.stopping.load(Relaxed) {
            let Ok(stream) = listener.accept::<Conn>() else {
                return;
            };
            let Ok(conn) = Conn::new(this.clone(), stream) else {
                continue;
            };
            if this.conns.lock().push(conn.clone(), GFP_KERNEL).is_ok() {
                conn.kick();
            } else {
                conn.close_now();
            }
        }
    }
}

impl Port {
    fn new(port: u16, body_len: usize, close: bool, pages: Arc<KVec<Page>>) -> Result<Arc<Self>> {
        let mut canned = KVec::new();
        let head = [
            &b"HTTP/1.1 200 OK\r\nServer: tux-ceiling\r\n"[..],
            &b"Content-Type: application/octet-stream\r\n"[..],
            if close {
                &b"Connection: close\r\n"[..]
            } else {
                &b""[..]
            },
            b"Content-Length: ",
        ];
        for part in head {
            canned.extend_from_slice(part, GFP_KERNEL)?;
        }
        let mut digits = [0u8; 20];
        let mut n = body_len;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        canned.extend_from_slice(&digits[i..], GFP_KERNEL)?;
        canned.extend_from_slice(b"\r\n\r\n", GFP_KERNEL)?;
        let head_len = canned.len();
        if body_len <= PAGE_SIZE {
            canned.resize(head_len + body_len, 0, GFP_KERNEL)?;
        }
        // Dual-stack `[::]`, as TUX's own default listener.
        let any = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
        let listener = TcpListener::<Port>::bind(
            kernel::net::namespace::Namespace::init_ns(),
            any,
            1024,
            false,
        )?;
        let this = Arc::pin_init(
            pin_init!(Port {
                canned,
                head_len,
                body_len,
                close,
                pages,
                listener <- new_mutex!(None),
                conns <- new_mutex!(KVec::new()),
                stopping: Atomic::new(false),
                accept <- new_work!("tux_ceiling::accept"),
            }),
            GFP_KERNEL,
        )?;
        let mut listener = listener;
        listener.set_events(this.clone())?;
        // Connections already waiting were reported by `set_events`.
        *this.listener.lock() = Some(listener);
        Ok(this)
    }

    fn stop(&self) {
        self.stopping.store(true, Relaxed);
        if let Some(mut l) = self.listener.lock().take() {
            l.clear_events();
        }
        let conns = core::mem::take(&mut *self.conns.lock());
        for c in conns.iter() {
            c.close_now();
        }
    }

    fn forget(&self, conn: &Conn) {
        let mut conns = self.conns.lock();
        if let Some(i) = conns.iter().position(|c| core::ptr::eq::<Conn>(&**c, conn)) {
            let _ = conns.remove(i);
        }
    }
}

/// A client connection.
#[pin_data(PinnedDrop)]
struct Conn {
    port: Arc<Port>,
    #[pin]
    inner: Mutex<ConnInner>,
    closing: Atomic<bool>,
    #[pin]
    work: Work<Conn>,
}

struct ConnInner {
    stream: Option<TcpStream<Conn>>,
    input: KVec<u8>,
    /// How much of `CR LF CR LF` the input ended with.
    matched: usize,
    /// Request heads seen and not answered yet.
    pending: usize,
    /// Progress of the response being sent (head, then body), if any.
    sent: Option<usize>,
}

impl_has_work! {
    impl HasWork<Self> for Conn { self.work }
}

/// The queue of the connections' work: unbound, as TUX's (`conn_queue` in conn.rs).
fn conn_queue() -> &'static workqueue::Queue {
    workqueue::system_unbound()
}

impl SocketEvents for Conn {
    fn data_ready(this: ArcBorrow<'_, Self>) {
        let _ = conn_queue().enqueue(Arc::<Conn>::from(this));
    }
    fn write_space(this: ArcBorrow<'_, Self>) {
        let _ = conn_queue().enqueue(Arc::<Conn>::from(this));
    }
    fn state_change(this: ArcBorrow<'_, Self>) {
        let _ = conn_queue().enqueue(Arc::<Conn>::from(this));
    }
}

impl WorkItem for Conn {
    type Pointer = Arc<Conn>;

    fn run(this: Arc<Conn>) {
        let mut inner = this.inner.lock();
        if inner.stream.is_none() {
            return;
        }
        if this.closing.load(Relaxed) || !inner.drive(&this.port) {
            if let Some(stream) = inner.stream.take() {
                stream.close();
            }
            drop(inner);
            this.port.forget(&this);
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Conn {
    fn drop(self: Pin<&mut Self>) {
        LIVE.fetch_sub(1, Relaxed);
    }
}

impl Conn {
    fn new(port: Arc<Port>, stream: TcpStream<Conn>) -> Result<Arc<Self>> {
        // Zeroed by the allocator: `KVec::from_elem` writes one byte at a time, which cost
        // 24,600 instructions per connection in a profile of the close workloads.
        let input = KVec::zeroed(INPUT, GFP_KERNEL)?;
        let conn = Arc::pin_init(
            pin_init!(Conn {
                port,
                inner <- new_mutex!(ConnInner {
                    stream: None,
                    input,
                    matched: 0,
                    pending: 0,
                    sent: None,
                }),
                closing: Atomic::new(false),
                work <- new_work!("tux_ceiling::conn"),
            }),
            GFP_KERNEL,
        )?;
        LIVE.fetch_add(1, Relaxed);
        let mut stream = stream;
        stream.set_nodelay();
        {
            let mut inner = conn.inner.lock();
            stream.set_events(conn.clone())?;
            inner.stream = Some(stream);
        }
        Ok(conn)
    }

    fn kick(self: &Arc<Self>) {
        let _ = conn_queue().enqueue(self.clone());
    }

    fn close_now(self: &Arc<Self>) {
        self.closing.store(true, Relaxed);
        self.kick();
    }
}

impl ConnInner {
    /// Makes all the progress the socket allows; `false` when the connection is to be closed.
    fn drive(&mut self, port: &Port) -> bool {
        let total = port.head_len.saturating_add(port.body_len);
        loop {
            let Some(stream) = self.stream.as_ref() else {
                return false;
            };
            if let Some(sent) = self.sent {
                match Self::send(stream, port, sent, total) {
                    Ok(n) if sent.saturating_add(n) >= total => {
                        self.sent = None;
                        if port.close {
                            return false;
                        }
                    }
                    Ok(n) => self.sent = Some(sent.saturating_add(n)),
                    Err(e) if e == EAGAIN => return true,
                    Err(_) => return false,
                }
                continue;
            }
            if self.pending > 0 {
                self.pending = self.pending.saturating_sub(1);
                self.sent = Some(0);
                continue;
            }
            match stream.recv(&mut self.input) {
                Ok(0) => return false,
                Ok(n) => {
                    // Count the ends of request heads; nothing else is looked at.
                    for &b in self.input.get(..n).unwrap_or(&[]) {
                        let want = if self.matched % 2 == 0 { b'\r' } else { b'\n' };
                        self.matched = if b == want {
                            self.matched.saturating_add(1)
                        } else if b == b'\r' {
                            1
                        } else {
                            0
                        };
                        if self.matched == 4 {
                            self.matched = 0;
                            self.pending = self.pending.saturating_add(1);
                        }
                    }
                }
                Err(e) if e == EAGAIN => return true,
                Err(_) => return false,
            }
        }
    }

    /// Sends more of the response from byte `sent` on.
    fn send(stream: &TcpStream<Conn>, port: &Port, sent: usize, total: usize) -> Result<usize> {
        if port.body_len <= PAGE_SIZE || sent < port.head_len {
            let end = if port.body_len <= PAGE_SIZE {
                total
            } else {
                port.head_len
            };
            let chunk = port.canned.get(sent..end).ok_or(EINVAL)?;
            return stream.send(chunk, port.body_len > PAGE_SIZE);
        }
        let body_sent = sent.saturating_sub(port.head_len);
        let left = port.body_len.saturating_sub(body_sent);
        // Every page is zeroed: any byte of the body is byte `body_sent % PAGE_SIZE` of one.
        stream.send_pages(&port.pages, body_sent % PAGE_SIZE, left, false)
    }
}

struct Ceiling {
    ports: KVec<Arc<Port>>,
}

impl kernel::Module for Ceiling {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let base = module_parameters::port.value();
        let base = u16::try_from(base)
            .ok()
            .filter(|b| b.checked_add(5).is_some())
            .ok_or(EINVAL)?;
        let mut pages = KVec::with_capacity(PAGES, GFP_KERNEL)?;
        for _ in 0..PAGES {
            pages.push(Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?, GFP_KERNEL)?;
        }
        let pages = Arc::new(pages, GFP_KERNEL)?;
        let mut ports = KVec::new();
        for (i, close) in [(0u16, false), (3, true)] {
            for (j, size) in SIZES.iter().enumerate() {
                let p = base + i + j as u16;
                let port = Port::new(p, *size, close, pages.clone()).inspect_err(|e| {
                    pr_err!("cannot listen on port {}: error {}\n", p, e.to_errno());
                });
                match port {
                    Ok(port) => ports.push(port, GFP_KERNEL)?,
                    Err(e) => {
                        stop_all(&ports);
                        return Err(e);
                    }
                }
            }
        }
        pr_info!(
            "bench ceiling on ports {}-{} (1 KiB, 16 KiB, 1 MiB; keep-alive, then close)\n",
            base,
            base + 5
        );
        Ok(Ceiling { ports })
    }
}

fn stop_all(ports: &[Arc<Port>]) {
    for p in ports {
        p.stop();
    }
    // Wait for every connection to go before the module's code and data do: each holds the
    // registration of its socket's events (this module's vtable and `Conn`) until its work
    // closes it, which `stop` made it do. Not bounded: unloading with a registration left
    // would let the stack call into freed code.
    let mut waited: u32 = 0;
    while LIVE.load(Relaxed) != 0 {
        kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
        waited = waited.wrapping_add(1);
        if waited % 500 == 0 {
            pr_warn!("waiting for {} connections to close\n", LIVE.load(Relaxed));
        }
    }
    // SAFETY: `system_wq` and `system_unbound_wq` are system workqueues, valid forever;
    // flushing them waits for the work items of this module that may still be running (the
    // ports' on the first, the connections' on the second).
    unsafe {
        bindings::__flush_workqueue(bindings::system_wq);
        bindings::__flush_workqueue(bindings::system_unbound_wq);
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        stop_all(&self.ports);
        pr_info!("bench ceiling stopped\n");
    }
}
