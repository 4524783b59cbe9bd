// SPDX-License-Identifier: GPL-2.0

//! `tuxfuzz`: calls `tux(2)` with random actions, sizes and pointers inside
//! the test guest, from privileged and unprivileged processes, while real
//! module requests flow.
//!
//! ```text
//! tuxfuzz [CALLS [SEED [WORKERS [UNPRIV_WORKERS [SECONDS [MIN_CALLS]]]]]]
//! ```
//!
//! The root process runs `WORKERS` fuzzing threads (default 4), a thread that
//! maps and unmaps a page the others pass as a pointer, a user module for
//! `/fzmod` whose thread acts on real requests with random arguments, and two
//! clients that keep requesting `/fzmod`. A child forked first drops to
//! nobody (65534) and runs `UNPRIV_WORKERS` fuzzing threads (default 2).
//! `CALLS` (default 1,000,000) are shared among all fuzzing threads. The run
//! stops after `SECONDS` (default 100) even if they are not all made, and
//! fails if fewer than `MIN_CALLS` (default `CALLS`) were: a run that must
//! make a given number of calls gives a generous `SECONDS` as a hang guard; a
//! time-boxed run (a slow debug kernel) gives a large `CALLS` and a small
//! `MIN_CALLS` that only proves the fuzzer ran.
//!
//! Every pointer the kernel may write through points into memory of this
//! process that nothing else uses (a per-thread arena followed by a guard
//! page, pages mapped for the purpose) or to memory no access can succeed on
//! (NULL, kernel addresses, non-canonical addresses, `PROT_NONE`): a random
//! address never lands in the heap.
//!
//! Checked on every call where the answer is determined by the arguments:
//! unknown actions give `EINVAL`, admin actions `EPERM` without the
//! capability, a bad request block pointer `EFAULT`, wrong sizes
//! `EINVAL`/`E2BIG`, non-zero trailing bytes `E2BIG`, a wrong version
//! `EPROTO`; the unprivileged process never succeeds except for
//! `QUERY_VERSION` and `CURRENT_DATE`; no kernel-internal errno (>= 512)
//! reaches userspace. A monitor interrupts any call blocked for more than a
//! few milliseconds with SIGUSR1 (no `SA_RESTART`) and fails the run if one
//! lasts 10 s. A crash (a signal instead of `EFAULT`) ends the process.
//!
//! The last line is `tuxfuzz: N calls, OK` or `tuxfuzz: FAIL: <why>`; the
//! exit status is 0 or 1. Never called: `STARTUP` and `SHUTDOWN` (they would
//! stop the server the other tests use).

use std::{
    ffi::c_void,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpStream},
    ptr,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use tux_abi::{version_compatible, Action, TuxReq, NR_TUX, TUX_VERSION};

const REQ_SIZE: usize = core::mem::size_of::<TuxReq>();
const PAGE: usize = 4096;
/// Each fuzzing thread's memory; a `PROT_NONE` guard page follows it.
const ARENA: usize = 256 * 1024;
/// Highest action number tried (23 is the last real one).
const MAX_ACTION: u32 = 30;
/// Result classes: 0 success, 1..=133 errno, 134 anything else.
const CLASSES: usize = 135;
const NOBODY: libc::c_long = 65534;
/// Kernel (direct map) address.
const KERNEL_ADDR: u64 = 0xffff_8880_0000_0000;
/// The very top of the address space: `addr + size` overflows.
const KERNEL_TOP: u64 = 0xffff_ffff_ffff_ff00;
/// Module thread number of the `/fzmod` module.
const MOD_THREAD: u32 = 63;
const MOD_PREFIX: &[u8] = b"/fzmod";
/// Calls blocked longer than this are interrupted (µs).
const KICK_US: u64 = 20_000;
/// `EVENTLOOP` of a fuzzing thread is interrupted sooner (µs).
const KICK_LOOP_US: u64 = 2_000;
/// A call lasting this long fails the run.
const HANG: Duration = Duration::from_secs(10);
/// Most violations printed.
const MAX_REPORTS: u32 = 20;

static STOP: AtomicBool = AtomicBool::new(false);
/// Stops the monitor, after every other thread was joined.
static MON_STOP: AtomicBool = AtomicBool::new(false);
static VIOLATIONS: AtomicU32 = AtomicU32::new(0);
/// The id of the latest request an `EVENTLOOP` returned.
static LAST_ID: AtomicU64 = AtomicU64::new(1);
/// Workers stop at this many µs after the start (of `Ctx::base`).
static DEADLINE_US: AtomicU64 = AtomicU64::new(u64::MAX);

// ---------------------------------------------------------------------------
// Basics

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True once in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_ne_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// `tux(action, ptr, size)`: the result, or `-errno`.
fn sys(action: u32, ptr: u64, size: usize) -> i64 {
    // SAFETY: every pointer this program passes (and every pointer inside a block it
    // passes) is memory the kernel may write to without harm (owned arenas and pages
    // used for nothing else) or memory no access succeeds on; a bad one is -EFAULT.
    let r = unsafe { libc::syscall(NR_TUX, action as libc::c_uint, ptr as *mut c_void, size) };
    if r < 0 {
        -i64::from(errno())
    } else {
        r
    }
}

fn errname(e: i64) -> String {
    let n = match e as i32 {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::E2BIG => "E2BIG",
        libc::EPROTO => "EPROTO",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("errno{e}"),
    };
    n.to_string()
}

fn fmt_ret(r: i64) -> String {
    if r < 0 {
        format!("-{}", errname(-r))
    } else {
        format!("{r}")
    }
}

fn action_name(a: u32) -> String {
    match Action::from_u32(a) {
        Some(a) => format!("{a:?}"),
        None => format!("#{a}"),
    }
}

/// Maps `len` bytes with `prot`; `None` if the kernel refuses.
fn map(len: usize, prot: libc::c_int) -> Option<u64> {
    // SAFETY: a fresh anonymous private mapping; nothing else refers to it.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as u64)
}

fn protect(addr: u64, len: usize, prot: libc::c_int) {
    // SAFETY: `addr..addr + len` is a mapping of this program used only as fuzz memory.
    unsafe { libc::mprotect(addr as *mut c_void, len, prot) };
}

/// Copies `bytes` to `addr`, which must be writable memory of this program.
fn poke(addr: u64, bytes: &[u8]) {
    // SAFETY: callers pass addresses inside an arena or a page this program mapped for
    // fuzzing, with room for `bytes` (checked by the callers' bounds).
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
}

fn zero(addr: u64, len: usize) {
    // SAFETY: as for `poke`.
    unsafe { ptr::write_bytes(addr as *mut u8, 0, len) };
}

fn now_us(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_micros()).unwrap_or(u64::MAX)
}

extern "C" fn on_sigusr1(_: libc::c_int) {}

/// A no-op SIGUSR1 handler without `SA_RESTART`: the signal interrupts a blocked call.
fn install_sigusr1() -> bool {
    // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGUSR1, &sa, ptr::null_mut()) == 0
    }
}

// ---------------------------------------------------------------------------
// Memory the fuzzer points the kernel at

/// The content of the read-only and racing pages: a valid block at 0, then spaces
/// (invalid in every prefix and extension), `fz1` at 512 and `/fzro` at 1024.
fn special_page() -> Vec<u8> {
    let mut p = vec![b' '; PAGE];
    let r = TuxReq {
        version: TUX_VERSION,
        id: 1,
        ..TuxReq::default()
    };
    // SAFETY: `TuxReq` is plain integers without padding.
    let bytes =
        unsafe { core::slice::from_raw_parts((&r as *const TuxReq).cast::<u8>(), REQ_SIZE) };
    p[..REQ_SIZE].copy_from_slice(bytes);
    p[512..515].copy_from_slice(b"fz1");
    p[1024..1029].copy_from_slice(b"/fzro");
    p
}

/// Pages shared by the threads of one process.
struct Pages {
    /// Two `PROT_NONE` pages.
    none: u64,
    /// One read-only page with `special_page()`.
    read_only: u64,
    /// The middle page of a three-page reservation, mapped and unmapped by the racer.
    race: u64,
}

impl Pages {
    fn new() -> Option<Self> {
        let none = map(2 * PAGE, libc::PROT_NONE)?;
        let read_only = map(PAGE, libc::PROT_READ | libc::PROT_WRITE)?;
        poke(read_only, &special_page());
        protect(read_only, PAGE, libc::PROT_READ);
        // The racing page sits between two PROT_NONE pages, so that the hole it leaves
        // is a single page nothing else of this program maps.
        let res = map(3 * PAGE, libc::PROT_NONE)?;
        let race = res + PAGE as u64;
        protect(race, PAGE, libc::PROT_READ | libc::PROT_WRITE);
        poke(race, &special_page());
        Some(Self {
            none,
            read_only,
            race,
        })
    }
}

/// Unmaps and maps the racing page again, over and over, until `STOP`.
fn racer(race: u64, seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    let page = special_page();
    let mut cycles = 0u64;
    while !STOP.load(Relaxed) {
        // SAFETY: `race` is this program's racing page; MAP_FIXED_NOREPLACE never
        // replaces a mapping something else may have put into the hole.
        unsafe {
            libc::munmap(race as *mut c_void, PAGE);
            for _ in 0..rng.below(200) {
                std::hint::spin_loop();
            }
            let p = libc::mmap(
                race as *mut c_void,
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            );
            if p as u64 != race {
                if p != libc::MAP_FAILED {
                    libc::munmap(p, PAGE);
                }
                println!("tuxfuzz: note: the racing page was taken; racing stops");
                return cycles;
            }
            if rng.one_in(2) {
                ptr::copy_nonoverlapping(page.as_ptr(), race as *mut u8, PAGE);
            }
            if rng.one_in(4) {
                libc::mprotect(race as *mut c_void, PAGE, libc::PROT_READ);
            }
            if rng.one_in(8) {
                libc::mprotect(race as *mut c_void, PAGE, libc::PROT_NONE);
            }
        }
        cycles += 1;
        if rng.one_in(4) {
            thread::yield_now();
        }
    }
    cycles
}

/// What a pointer points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    /// Into the thread's arena, 8-aligned.
    Valid,
    /// Into the arena, misaligned.
    Misaligned,
    /// Close before the arena's guard page.
    NearEnd,
    Race,
    ProtNone,
    ReadOnly,
    Kernel,
    KernelTop,
    /// A random address nothing can be mapped at (non-canonical, kernel, or low).
    Random,
}

const KINDS: [Kind; 10] = [
    Kind::Null,
    Kind::Valid,
    Kind::Misaligned,
    Kind::NearEnd,
    Kind::Race,
    Kind::ProtNone,
    Kind::ReadOnly,
    Kind::Kernel,
    Kind::KernelTop,
    Kind::Random,
];

impl Kind {
    /// Whether no access through such a pointer can succeed.
    fn bad(self) -> bool {
        matches!(
            self,
            Kind::Null | Kind::ProtNone | Kind::Kernel | Kind::KernelTop | Kind::Random
        )
    }
}

/// An offset into a special page: the block, the names, or anywhere.
fn page_offset(rng: &mut Rng) -> u64 {
    match rng.below(5) {
        0 | 1 => 0,
        2 => 512,
        3 => 1024,
        _ => rng.below(PAGE as u64),
    }
}

/// One fuzzing thread's view of memory.
struct Mem {
    arena: u64,
    none: u64,
    read_only: u64,
    race: u64,
}

impl Mem {
    fn new(pages: &Pages) -> Option<Self> {
        let arena = map(ARENA + PAGE, libc::PROT_READ | libc::PROT_WRITE)?;
        protect(arena + ARENA as u64, PAGE, libc::PROT_NONE);
        Some(Self {
            arena,
            none: pages.none,
            read_only: pages.read_only,
            race: pages.race,
        })
    }

    fn end(&self) -> u64 {
        self.arena + ARENA as u64
    }

    /// An address of `kind`. Arena addresses of request blocks (`block`) lie in the
    /// upper half with room for 4097 bytes, those of names and buffers in the lower
    /// half, so that writing a block never overwrites its names.
    fn addr(&self, rng: &mut Rng, kind: Kind, block: bool) -> u64 {
        let half = (ARENA / 2) as u64;
        let (base, span) = if block {
            (self.arena + half, half - 2 * PAGE as u64)
        } else {
            (self.arena, half - 2 * PAGE as u64)
        };
        match kind {
            Kind::Null => 0,
            Kind::Valid => base + (rng.below(span) & !7),
            Kind::Misaligned => base + (rng.below(span) & !7) + 1 + rng.below(7),
            Kind::NearEnd => {
                let back = match rng.below(3) {
                    0 => 1 + rng.below(64),
                    1 => 1 + rng.below(400),
                    _ => 1 + rng.below(PAGE as u64),
                };
                self.end() - back
            }
            Kind::Race => self.race + page_offset(rng),
            Kind::ProtNone => self.none + rng.below(PAGE as u64),
            Kind::ReadOnly => self.read_only + page_offset(rng),
            Kind::Kernel => KERNEL_ADDR + if rng.one_in(3) { rng.below(1 << 30) } else { 0 },
            Kind::KernelTop => KERNEL_TOP,
            Kind::Random => match rng.below(3) {
                // Non-canonical.
                0 => 0x0000_8000_0000_0000 + rng.below(0xffff_0000_0000_0000),
                // Kernel half.
                1 => 0xffff_8000_0000_0000 | rng.next(),
                // Below mmap_min_addr.
                _ => rng.below(PAGE as u64),
            },
        }
    }

    /// Whether `addr..addr + len` lies inside the arena.
    fn in_arena(&self, addr: u64, len: usize) -> bool {
        addr >= self.arena && addr.saturating_add(len as u64) <= self.end()
    }
}

// ---------------------------------------------------------------------------
// Statistics

struct Stats {
    calls: u64,
    /// `counts[action][class]`.
    counts: Vec<[u64; CLASSES]>,
    max_us: u64,
}

impl Stats {
    fn new() -> Self {
        Self {
            calls: 0,
            counts: vec![[0; CLASSES]; MAX_ACTION as usize + 1],
            max_us: 0,
        }
    }

    fn add(&mut self, action: u32, ret: i64) {
        self.calls += 1;
        let class = if ret >= 0 {
            0
        } else if -ret < CLASSES as i64 - 1 {
            (-ret) as usize
        } else {
            CLASSES - 1
        };
        if let Some(row) = self.counts.get_mut(action as usize) {
            row[class] += 1;
        }
    }

    fn merge(&mut self, o: &Stats) {
        self.calls += o.calls;
        self.max_us = self.max_us.max(o.max_us);
        for (a, b) in self.counts.iter_mut().zip(o.counts.iter()) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
    }

    fn print(&self, label: &str, secs: f64) {
        println!(
            "{label}: {} calls in {secs:.1} s ({:.0} calls/s), longest call {} us",
            self.calls,
            self.calls as f64 / secs.max(0.001),
            self.max_us
        );
        let mut total = [0u64; CLASSES];
        for (a, row) in self.counts.iter().enumerate() {
            let n: u64 = row.iter().sum();
            if n == 0 {
                continue;
            }
            let mut line = format!("  {a:2} {:<18} {n:7}:", action_name(a as u32));
            for (c, &v) in row.iter().enumerate() {
                total[c] += v;
                if v != 0 {
                    let what = match c {
                        0 => "ok".to_string(),
                        c if c == CLASSES - 1 => "other".to_string(),
                        c => errname(c as i64),
                    };
                    line.push_str(&format!(" {what} {v}"));
                }
            }
            println!("{line}");
        }
        let mut hist = format!("{label} results:");
        for (c, &v) in total.iter().enumerate() {
            if v != 0 {
                let what = match c {
                    0 => "ok".to_string(),
                    c if c == CLASSES - 1 => "other".to_string(),
                    c => errname(c as i64),
                };
                hist.push_str(&format!(" {what} {v}"));
            }
        }
        println!("{hist}");
    }
}

// ---------------------------------------------------------------------------
// The monitor: interrupts blocked calls, detects hung ones

/// A thread the monitor watches.
struct Slot {
    /// `pthread_t` of the thread.
    thread: AtomicU64,
    /// Start of the current call (µs since `base` + 1), 0 when idle.
    since: AtomicU64,
    /// Interrupt the call after this many µs.
    kick_us: AtomicU64,
    /// The call, for the report of a hang.
    action: AtomicU32,
}

impl Slot {
    fn new() -> Self {
        Self {
            thread: AtomicU64::new(0),
            since: AtomicU64::new(0),
            kick_us: AtomicU64::new(KICK_US),
            action: AtomicU32::new(0),
        }
    }

    fn register(&self) {
        // SAFETY: always safe.
        let me = unsafe { libc::pthread_self() };
        self.thread.store(me as u64, Relaxed);
    }
}

struct Ctx {
    base: Instant,
    seed: u64,
    unpriv: bool,
    slots: Vec<Slot>,
}

impl Ctx {
    /// Makes one call on behalf of slot `slot`, timed and interruptible.
    fn call(
        &self,
        slot: usize,
        action: u32,
        ptr: u64,
        size: usize,
        kick_us: u64,
        st: &mut Stats,
    ) -> i64 {
        let s = &self.slots[slot];
        s.kick_us.store(kick_us, Relaxed);
        s.action.store(action, Relaxed);
        let t0 = now_us(self.base) + 1;
        s.since.store(t0, Relaxed);
        let r = sys(action, ptr, size);
        s.since.store(0, Relaxed);
        let dt = now_us(self.base) + 1 - t0;
        st.max_us = st.max_us.max(dt);
        st.add(action, r);
        r
    }
}

fn monitor(ctx: Arc<Ctx>, fail: Arc<Mutex<Option<String>>>) {
    while !MON_STOP.load(Relaxed) {
        thread::sleep(Duration::from_millis(1));
        let now = now_us(ctx.base) + 1;
        for (i, s) in ctx.slots.iter().enumerate() {
            let since = s.since.load(Relaxed);
            if since == 0 || now < since {
                continue;
            }
            let dt = now - since;
            if dt >= s.kick_us.load(Relaxed) {
                let t = s.thread.load(Relaxed);
                if t != 0 {
                    // SAFETY: `t` is a live thread of this process (threads are joined
                    // only after STOP, and the monitor is stopped first).
                    unsafe { libc::pthread_kill(t as libc::pthread_t, libc::SIGUSR1) };
                }
            }
            if dt >= HANG.as_micros() as u64 {
                let why = format!(
                    "call {} of thread {i} ({}) blocked for {} s despite SIGUSR1",
                    action_name(s.action.load(Relaxed)),
                    if ctx.unpriv { "unprivileged" } else { "root" },
                    dt / 1_000_000
                );
                println!("tuxfuzz: FAIL: {why} (seed {})", ctx.seed);
                *fail.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                // A hung call cannot be joined: leave now.
                std::process::exit(1);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Building a call

const SIZES: [usize; 10] = [0, 1, 175, 176, 177, 200, 4096, 4097, 0, usize::MAX];

fn random_size(rng: &mut Rng) -> usize {
    if rng.one_in(3) {
        return REQ_SIZE;
    }
    match rng.pick(&SIZES) {
        0 if rng.one_in(2) => rng.below(8192) as usize,
        s => s,
    }
}

fn random_len(rng: &mut Rng) -> u64 {
    match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => 3,
        3 => 29,
        4 => rng.below(64),
        5 => 255,
        6 => 256,
        7 => 4096,
        8 => rng.below(1 << 20),
        9 => u64::MAX,
        10 => 1 << 32,
        _ => rng.next(),
    }
}

fn random_id(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 | 2 => 1 + rng.below(100),
        3 => LAST_ID
            .load(Relaxed)
            .wrapping_add(rng.below(5))
            .wrapping_sub(2),
        4 => LAST_ID.load(Relaxed),
        _ => rng.next(),
    }
}

/// A name for `action` (module prefixes under `/fz`, extensions `fz0`..`fz7`),
/// followed by spaces so that a longer length reads an invalid name: the fuzzer
/// registers only a few modules and types, and only its own.
fn random_name(rng: &mut Rng, action: u32) -> Vec<u8> {
    let mut n: Vec<u8> = match action {
        11 | 12 => {
            let tail: &[u8] = rng.pick(&[
                b"a".as_slice(),
                b"b",
                b"c/d",
                b"mod",
                b"",
                b"/",
                b"/..",
                b"x y",
                b"e%41",
            ]);
            if rng.one_in(4) {
                // Extension routes (`*.ext`): only the fuzzer's own extensions.
                let mut e = b"*.fz".to_vec();
                e.push(b'0' + rng.below(4) as u8);
                if rng.one_in(4) {
                    e.push(rng.pick(&[b'.', b'/', b'*', 0u8]));
                }
                e
            } else {
                [b"/fz".as_slice(), tail].concat()
            }
        }
        14 => {
            let mut e = b"fz".to_vec();
            e.push(b'0' + rng.below(8) as u8);
            if rng.one_in(8) {
                e.push(rng.pick(&[b'.', b'/', b' ', 0u8]));
            }
            e
        }
        _ => rng
            .pick(&[
                b"/index.html".as_slice(),
                b"index.html",
                b"/",
                b"/../../etc/passwd",
                b"/nonexistent",
                b"/fzmod",
                b"",
            ])
            .to_vec(),
    };
    if rng.one_in(16) {
        let mut junk = vec![0u8; rng.below(300) as usize];
        rng.fill(&mut junk);
        if action == 11 || action == 12 || action == 14 {
            // Never a readable name outside the fuzzer's own.
            junk.iter_mut().for_each(|b| *b = b' ' | (*b & 0x80));
        }
        n.extend_from_slice(&junk);
    }
    n.extend_from_slice(&[b' '; 8]);
    n
}

fn random_type(rng: &mut Rng) -> Vec<u8> {
    let mut t = rng
        .pick(&[
            b"text/fz".as_slice(),
            b"application/x-fz; charset=utf-8",
            b"a/",
            b"/b",
            b"text/\r\nX-Fz: 1",
            b"text/fz\0",
            b"",
        ])
        .to_vec();
    if rng.one_in(8) {
        let mut junk = vec![0u8; rng.below(300) as usize];
        rng.fill(&mut junk);
        t.extend_from_slice(&junk);
    }
    t
}

/// One call and what is known about its request block.
struct Plan {
    action: u32,
    kind: Kind,
    ptr: u64,
    size: usize,
    /// The block was written by us, fully inside the arena for `size` bytes.
    readable: bool,
    /// ... and its version is compatible.
    version_ok: bool,
    /// ... and a byte past the known struct is non-zero.
    trailing: bool,
}

/// Picks a pointer kind for a pointer inside the block (no NULL-heavy bias).
fn inner_ptr(rng: &mut Rng, mem: &Mem, action: u32, what: u8) -> (u64, u64) {
    let kind = if rng.one_in(2) {
        Kind::Valid
    } else {
        rng.pick(&KINDS)
    };
    let len = random_len(rng);
    let addr = mem.addr(rng, kind, false);
    if matches!(kind, Kind::Valid | Kind::Misaligned) {
        let bytes = match what {
            b'n' => random_name(rng, action),
            b'v' => random_type(rng),
            _ => Vec::new(),
        };
        if !bytes.is_empty() && mem.in_arena(addr, bytes.len()) {
            poke(addr, &bytes);
            if rng.one_in(2) {
                let exact = bytes.len() - if what == b'n' { 8 } else { 0 };
                return (addr, exact as u64);
            }
        }
    }
    (addr, len)
}

/// Writes a random block for `action` at `addr` (in the arena) covering `size` bytes.
fn fill_block(rng: &mut Rng, mem: &Mem, action: u32, addr: u64, size: usize) -> (bool, bool) {
    let mut r = TuxReq::default();
    // SAFETY: `TuxReq` is plain integers without padding; every byte pattern is valid.
    let raw =
        unsafe { core::slice::from_raw_parts_mut((&mut r as *mut TuxReq).cast::<u8>(), REQ_SIZE) };
    rng.fill(raw);
    r.version = match rng.below(8) {
        0 => rng.next() as u32,
        1 => TUX_VERSION + 1, // a newer patch level: compatible
        2 => TUX_VERSION + (1 << 16),
        _ => TUX_VERSION,
    };
    if rng.one_in(4) {
        // A mostly clean block: the pointers and lengths below, zero elsewhere.
        let v = r.version;
        r = TuxReq {
            version: v,
            proxy_fd: -1,
            ..TuxReq::default()
        };
    }
    (r.buf, r.buf_len) = inner_ptr(rng, mem, action, b'b');
    (r.name, r.name_len) = inner_ptr(rng, mem, action, b'n');
    (r.value, r.value_len) = inner_ptr(rng, mem, action, b'v');
    r.id = random_id(rng);
    r.thread_nr = match rng.below(4) {
        0 => rng.next() as u32,
        1 => MOD_THREAD,
        _ => rng.below(64) as u32,
    };
    r.proxy_fd = match rng.below(4) {
        0 => -1,
        1 => rng.next() as i32,
        _ => rng.below(16) as i32,
    };
    r.offset = match rng.below(4) {
        0 => rng.next(),
        1 => rng.below(1 << 20),
        _ => 0,
    };
    let any = rng.next() as u32;
    r.http_status = rng.pick(&[200, 404, 0, 99, 1000, any]);
    // SAFETY: as above.
    let bytes =
        unsafe { core::slice::from_raw_parts((&r as *const TuxReq).cast::<u8>(), REQ_SIZE) };
    let room = (mem.end() - addr) as usize;
    poke(addr, &bytes[..REQ_SIZE.min(room)]);
    let mut trailing = false;
    let want = size.min(PAGE + 1).min(room);
    if want > REQ_SIZE {
        zero(addr + REQ_SIZE as u64, want - REQ_SIZE);
        if rng.one_in(8) {
            let at = REQ_SIZE + rng.below((want - REQ_SIZE) as u64) as usize;
            poke(addr + at as u64, &[1 + rng.below(255) as u8]);
            trailing = true;
        }
    }
    (version_compatible(TUX_VERSION, r.version), trailing)
}

fn plan(rng: &mut Rng, mem: &Mem) -> Plan {
    let mut action = rng.below(u64::from(MAX_ACTION) + 1) as u32;
    if action == Action::Startup as u32 || action == Action::Shutdown as u32 {
        action = if rng.one_in(2) {
            0
        } else {
            24 + rng.below(7) as u32
        };
    }
    let kind = if rng.one_in(2) {
        Kind::Valid
    } else {
        rng.pick(&KINDS)
    };
    let size = random_size(rng);
    let ptr = mem.addr(rng, kind, true);
    let mut p = Plan {
        action,
        kind,
        ptr,
        size,
        readable: false,
        version_ok: false,
        trailing: false,
    };
    if matches!(kind, Kind::Valid | Kind::Misaligned | Kind::NearEnd) {
        let (v, t) = fill_block(rng, mem, action, ptr, size);
        p.version_ok = v;
        p.trailing = t;
        p.readable = mem.in_arena(ptr, size.min(PAGE + 1));
    }
    p
}

/// What the kernel must answer, when the arguments alone decide it.
fn expected(p: &Plan, unpriv: bool) -> Option<i64> {
    let a = p.action;
    let Some(action) = Action::from_u32(a) else {
        return Some(-i64::from(libc::EINVAL));
    };
    if action == Action::QueryVersion {
        return Some(i64::from(TUX_VERSION));
    }
    if action.is_admin() && unpriv {
        return Some(-i64::from(libc::EPERM));
    }
    if action.needs_no_req() {
        return None;
    }
    if p.size < REQ_SIZE {
        return Some(-i64::from(libc::EINVAL));
    }
    if p.size > PAGE {
        return Some(-i64::from(libc::E2BIG));
    }
    if p.kind.bad() {
        return Some(-i64::from(libc::EFAULT));
    }
    if p.kind == Kind::NearEnd && !p.readable {
        // The block runs into the guard page; the bytes before it are ours and zero
        // past the struct, so only the fault can be the answer.
        let room = (p.ptr % PAGE as u64) as usize;
        let room = if room == 0 { PAGE } else { PAGE - room };
        if room < REQ_SIZE || !p.trailing {
            return Some(-i64::from(libc::EFAULT));
        }
        return None;
    }
    if p.readable {
        if p.trailing {
            return Some(-i64::from(libc::E2BIG));
        }
        if !p.version_ok {
            return Some(-i64::from(libc::EPROTO));
        }
    }
    None
}

/// Whether `ret` is acceptable when nothing more precise is known.
fn plausible(action: u32, ret: i64, unpriv: bool) -> Result<(), &'static str> {
    if ret <= -512 {
        return Err("a kernel-internal errno reached userspace");
    }
    if ret < 0 {
        return Ok(());
    }
    match action {
        13 if ret != 29 => Err("CURRENT_DATE returned other than 29"),
        13 => Ok(()),
        _ if unpriv => Err("success in the unprivileged process"),
        5 if ret > 2 => Err("EVENTLOOP returned an unknown value"),
        _ => Ok(()),
    }
}

fn violation(ctx: &Ctx, worker: usize, n: u64, p: &Plan, ret: i64, why: &str) {
    let k = VIOLATIONS.fetch_add(1, Relaxed);
    if k < MAX_REPORTS {
        println!(
            "tuxfuzz: VIOLATION ({}, seed {}, worker {worker}, call {n}): {}({}) req {:?} {:#x} size {} -> {}: {why}",
            if ctx.unpriv { "unprivileged" } else { "root" },
            ctx.seed,
            action_name(p.action),
            p.action,
            p.kind,
            p.ptr,
            p.size,
            fmt_ret(ret)
        );
    }
}

/// One fuzzing thread: `calls` random calls.
fn worker(ctx: Arc<Ctx>, pages: Arc<Pages>, slot: usize, calls: u64) -> Stats {
    ctx.slots[slot].register();
    let mut st = Stats::new();
    let Some(mem) = Mem::new(&pages) else {
        println!("tuxfuzz: FAIL: mmap of an arena failed");
        VIOLATIONS.fetch_add(1, Relaxed);
        return st;
    };
    let mut rng = Rng::new(
        ctx.seed ^ (slot as u64 + 1).wrapping_mul(0x1000_0000_01b3) ^ u64::from(ctx.unpriv),
    );
    let mut module_thread = false;
    for n in 0..calls {
        if n % 1024 == 0 && now_us(ctx.base) > DEADLINE_US.load(Relaxed) {
            break;
        }
        let mut p = plan(&mut rng, &mem);
        // A module thread's EVENTLOOP waits: only sometimes, interrupted quickly.
        if p.action == 5 && module_thread && !rng.one_in(16) {
            p.action = 23;
        }
        let kick = if p.action == 5 { KICK_LOOP_US } else { KICK_US };
        let ret = ctx.call(slot, p.action, p.ptr, p.size, kick, &mut st);
        match p.action {
            3 if ret == 0 => module_thread = true,
            5 if ret == 1 || ret == -i64::from(libc::EINVAL) => module_thread = false,
            5 if ret == 0 && mem.in_arena(p.ptr, REQ_SIZE) => {
                // SAFETY: the block is in the arena; unaligned reads are fine.
                let r = unsafe { ptr::read_unaligned(p.ptr as *const TuxReq) };
                LAST_ID.store(r.id, Relaxed);
            }
            _ => {}
        }
        if let Some(want) = expected(&p, ctx.unpriv) {
            if ret != want {
                violation(
                    &ctx,
                    slot,
                    n,
                    &p,
                    ret,
                    &format!("expected {}", fmt_ret(want)),
                );
            }
        } else if let Err(why) = plausible(p.action, ret, ctx.unpriv) {
            violation(&ctx, slot, n, &p, ret, why);
        }
    }
    st
}

// ---------------------------------------------------------------------------
// The /fzmod module and its clients

/// Registers `/fzmod`, serves its requests with random per-request actions.
fn module_thread(ctx: Arc<Ctx>, pages: Arc<Pages>, slot: usize) -> (Stats, u64) {
    ctx.slots[slot].register();
    let mut st = Stats::new();
    let mut served = 0u64;
    let Some(mem) = Mem::new(&pages) else {
        return (st, 0);
    };
    let mut rng = Rng::new(ctx.seed ^ 0x6d6f_6475_6c65);
    let name = mem.arena + (ARENA - PAGE) as u64;
    poke(name, MOD_PREFIX);
    let blk = mem.arena;
    let setup = TuxReq {
        version: TUX_VERSION,
        thread_nr: MOD_THREAD,
        name,
        name_len: MOD_PREFIX.len() as u64,
        ..TuxReq::default()
    };
    let put = |r: &TuxReq| {
        // SAFETY: plain integers.
        let b = unsafe { core::slice::from_raw_parts((r as *const TuxReq).cast::<u8>(), REQ_SIZE) };
        poke(blk, b);
    };
    while !STOP.load(Relaxed) {
        poke(name, MOD_PREFIX);
        put(&setup);
        ctx.call(slot, 11, blk, REQ_SIZE, KICK_US, &mut st);
        put(&setup);
        ctx.call(slot, 3, blk, REQ_SIZE, KICK_US, &mut st);
        put(&setup);
        let r = ctx.call(slot, 5, blk, REQ_SIZE, 100_000, &mut st);
        if r != 0 {
            if r != 2 && r != 1 {
                // Not a module thread (yet): do not spin.
                thread::sleep(Duration::from_millis(5));
            }
            continue;
        }
        served += 1;
        // SAFETY: the block is the arena's first bytes, aligned.
        let got = unsafe { ptr::read(blk as *const TuxReq) };
        LAST_ID.store(got.id, Relaxed);
        for _ in 0..1 + rng.below(6) {
            let action = rng.pick(&[6, 7, 8, 15, 15, 16, 17, 18, 19, 20, 20, 21, 22]);
            let mut p = plan(&mut rng, &mem);
            p.action = action;
            // Mostly a proper block for the request, with random buffers.
            if rng.below(4) != 0 {
                p.ptr = blk;
                p.size = REQ_SIZE;
                fill_block(&mut rng, &mem, action, blk, REQ_SIZE);
                // SAFETY: as above.
                let mut r = unsafe { ptr::read(blk as *const TuxReq) };
                r.version = TUX_VERSION;
                r.id = got.id;
                if action == 6 && rng.one_in(2) {
                    let n = b"/index.html";
                    let at = mem.arena + 8192;
                    poke(at, n);
                    r.name = at;
                    r.name_len = n.len() as u64;
                }
                if action == 20 && rng.one_in(2) {
                    r.buf = mem.arena + 8192;
                    r.buf_len = rng.below(8192);
                }
                put(&r);
            }
            let ret = ctx.call(slot, action, p.ptr, p.size, KICK_US, &mut st);
            if let Err(why) = plausible(action, ret, false) {
                violation(&ctx, slot, served, &p, ret, why);
            }
        }
        if rng.below(4) != 0 {
            let r = TuxReq {
                version: TUX_VERSION,
                id: got.id,
                http_status: rng.pick(&[200, 500, 0, 1234]),
                ..TuxReq::default()
            };
            put(&r);
            let a = if rng.one_in(2) { 9 } else { 10 };
            ctx.call(slot, a, blk, REQ_SIZE, KICK_US, &mut st);
        }
    }
    put(&setup);
    ctx.call(slot, 12, blk, REQ_SIZE, KICK_US, &mut st);
    (st, served)
}

/// Keeps requesting `/fzmod/...`; returns (requests, responses).
fn client(seed: u64) -> (u64, u64) {
    let mut rng = Rng::new(seed);
    let (mut sent, mut answered) = (0, 0);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 80));
    while !STOP.load(Relaxed) {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let req: &[u8] = rng.pick(&[
            b"GET /fzmod HTTP/1.1\r\nHost: fz\r\n\r\n".as_slice(),
            b"GET /fzmod/a?b HTTP/1.0\r\n\r\n",
            b"POST /fzmod/p HTTP/1.1\r\nHost: fz\r\nContent-Length: 10\r\n\r\n0123456789",
            b"HEAD /fzmod HTTP/1.1\r\nHost: fz\r\nConnection: close\r\n\r\n",
        ]);
        if s.write_all(req).is_err() {
            continue;
        }
        sent += 1;
        let mut buf = [0u8; 4096];
        if let Ok(n) = s.read(&mut buf) {
            if n > 0 {
                answered += 1;
            }
        }
    }
    (sent, answered)
}

// ---------------------------------------------------------------------------
// Processes

/// Runs the fuzzing threads (and in root the module) of one process; returns the
/// merged statistics.
fn run(seed: u64, unpriv: bool, workers: usize, per_worker: u64) -> Stats {
    let pages = match Pages::new() {
        Some(p) => Arc::new(p),
        None => {
            println!("tuxfuzz: FAIL: mmap of the fuzz pages failed");
            VIOLATIONS.fetch_add(1, Relaxed);
            return Stats::new();
        }
    };
    let nslots = workers + usize::from(!unpriv);
    let ctx = Arc::new(Ctx {
        base: Instant::now(),
        seed,
        unpriv,
        slots: (0..nslots).map(|_| Slot::new()).collect(),
    });
    let fail = Arc::new(Mutex::new(None));
    let mon = {
        let (c, f) = (ctx.clone(), fail.clone());
        thread::spawn(move || monitor(c, f))
    };
    let race = {
        let r = pages.race;
        thread::spawn(move || racer(r, seed ^ 0x7261_6365 ^ u64::from(unpriv)))
    };
    let (module, clients) = if unpriv {
        (None, Vec::new())
    } else {
        let (c, p) = (ctx.clone(), pages.clone());
        let m = thread::spawn(move || module_thread(c, p, workers));
        let cl = (0..2)
            .map(|i| thread::spawn(move || client(seed ^ (0xc11e_0000 + i))))
            .collect::<Vec<_>>();
        (Some(m), cl)
    };
    let hs: Vec<_> = (0..workers)
        .map(|i| {
            let (c, p) = (ctx.clone(), pages.clone());
            thread::spawn(move || worker(c, p, i, per_worker))
        })
        .collect();
    let t0 = Instant::now();
    let mut total = Stats::new();
    for h in hs {
        match h.join() {
            Ok(s) => total.merge(&s),
            Err(_) => {
                println!("tuxfuzz: FAIL: a worker panicked");
                VIOLATIONS.fetch_add(1, Relaxed);
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    STOP.store(true, Relaxed);
    let label = if unpriv { "unprivileged" } else { "root" };
    let mut extra = String::new();
    let mut module_stats = None;
    if let Some(m) = module {
        // The module thread may be waiting in EVENTLOOP: the monitor still kicks it.
        if let Ok((s, served)) = m.join() {
            extra = format!(", /fzmod module: {served} requests, {} calls", s.calls);
            module_stats = Some(s);
        }
    }
    let mut sent = (0, 0);
    for c in clients {
        if let Ok((a, b)) = c.join() {
            sent = (sent.0 + a, sent.1 + b);
        }
    }
    let cycles = race.join().unwrap_or(0);
    MON_STOP.store(true, Relaxed);
    let _ = mon.join();
    total.print(label, secs);
    if let Some(s) = module_stats {
        s.print("fzmod module", secs);
    }
    println!(
        "{label}: racer {cycles} map/unmap cycles{extra}{}",
        if unpriv {
            String::new()
        } else {
            format!(", clients {} requests, {} answered", sent.0, sent.1)
        }
    );
    total
}

fn drop_privileges() -> bool {
    // SAFETY: raw system calls on the only thread of the child (threads start later
    // and inherit the credentials).
    unsafe {
        libc::syscall(
            libc::SYS_setgroups,
            0 as libc::c_long,
            ptr::null::<libc::gid_t>(),
        ) == 0
            && libc::syscall(libc::SYS_setresgid, NOBODY, NOBODY, NOBODY) == 0
            && libc::syscall(libc::SYS_setresuid, NOBODY, NOBODY, NOBODY) == 0
    }
}

fn arg(args: &[String], i: usize, default: u64) -> u64 {
    args.get(i)
        .and_then(|s| {
            s.strip_prefix("0x")
                .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls = arg(&args, 1, 1_000_000);
    let seed = arg(&args, 2, {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        t ^ u64::from(std::process::id())
    });
    let workers = arg(&args, 3, 4).clamp(1, 64) as usize;
    let unpriv_workers = arg(&args, 4, 2).clamp(0, 64) as usize;
    let seconds = arg(&args, 5, 100);
    let min_calls = arg(&args, 6, calls).min(calls);
    DEADLINE_US.store(seconds.saturating_mul(1_000_000), Relaxed);
    let per = calls.div_ceil((workers + unpriv_workers) as u64);
    println!(
        "tuxfuzz: seed {seed} ({seed:#x}), {calls} calls (at least {min_calls}) within {seconds} s: {workers} root workers and {unpriv_workers} unprivileged, {per} each"
    );
    let _ = std::io::stdout().flush();
    if !install_sigusr1() {
        println!("tuxfuzz: FAIL: SIGUSR1 handler");
        std::process::exit(1);
    }
    let t0 = Instant::now();
    // The unprivileged child first, while this process has one thread.
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unpriv_workers > 0 && unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        println!("tuxfuzz: FAIL: pipe");
        std::process::exit(1);
    }
    let child = if unpriv_workers > 0 {
        // SAFETY: the process has a single thread; the child runs its own code and
        // leaves with _exit.
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: our pipe's read end.
                unsafe { libc::close(fds[0]) };
                let ok = drop_privileges();
                let mut out = [0u64; 3];
                if ok {
                    let s = run(seed ^ 0x6e6f_626f_6479, true, unpriv_workers, per);
                    out = [s.calls, u64::from(VIOLATIONS.load(Relaxed)), 1];
                } else {
                    println!(
                        "tuxfuzz: FAIL: setresuid(65534) in the child: errno {}",
                        errno()
                    );
                }
                let _ = std::io::stdout().flush();
                let mut b = [0u8; 24];
                for (c, v) in b.chunks_exact_mut(8).zip(out) {
                    c.copy_from_slice(&v.to_ne_bytes());
                }
                // SAFETY: writing an owned buffer to our pipe, then leaving.
                unsafe {
                    libc::write(fds[1], b.as_ptr().cast(), b.len());
                    libc::_exit(0)
                }
            }
            -1 => {
                println!("tuxfuzz: FAIL: fork: errno {}", errno());
                std::process::exit(1);
            }
            pid => {
                // SAFETY: our pipe's write end.
                unsafe { libc::close(fds[1]) };
                Some(pid)
            }
        }
    } else {
        None
    };
    let root = run(seed, false, workers, per);
    let mut failure: Option<String> = None;
    let mut total = root.calls;
    if let Some(pid) = child {
        let mut b = [0u8; 24];
        let mut got = 0;
        while got < b.len() {
            // SAFETY: reading into the unfilled rest of `b`.
            let n = unsafe { libc::read(fds[0], b[got..].as_mut_ptr().cast(), b.len() - got) };
            if n <= 0 {
                if n < 0 && errno() == libc::EINTR {
                    continue;
                }
                break;
            }
            got += n as usize;
        }
        let mut status = 0;
        // SAFETY: our child.
        while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && errno() == libc::EINTR {}
        let v: Vec<u64> = b
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        if libc::WIFSIGNALED(status) {
            failure = Some(format!(
                "the unprivileged child died of signal {}",
                libc::WTERMSIG(status)
            ));
        } else if got != b.len() || v[2] != 1 {
            failure = Some("the unprivileged child did not run".into());
        } else {
            total += v[0];
            if v[1] != 0 {
                failure = Some(format!("{} violations in the unprivileged child", v[1]));
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let v = VIOLATIONS.load(Relaxed);
    if failure.is_none() && v != 0 {
        failure = Some(format!("{v} violations in the root process"));
    }
    if failure.is_none() && total < min_calls {
        failure = Some(format!(
            "only {total} calls made within {seconds} s, {min_calls} required"
        ));
    }
    println!(
        "tuxfuzz: total {total} calls in {secs:.1} s ({:.0} calls/s), seed {seed}",
        total as f64 / secs.max(0.001)
    );
    match failure {
        None => {
            println!("tuxfuzz: {total} calls, OK");
            std::process::exit(0);
        }
        Some(why) => {
            println!("tuxfuzz: FAIL: {why} (seed {seed})");
            std::process::exit(1);
        }
    }
}
