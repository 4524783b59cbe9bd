#!/usr/bin/env python3
"""Instructions per request, by kernel function, for one server and workload.

Boots the bench guest (tools/bench/bench.py's payload and guest script) on
the icount clock exactly as `make bench` does (-icount shift=0,
-accel tcg,thread=single), with nokaslr and the tuxprof TCG plugin
(tools/bench/profile/tuxprof.c), for ONE server and ONE workload. The
plugin counts the guest instructions executed in every translated block
of the whole guest (all vCPUs, kernel and userspace), by block start
address. Addresses are mapped to functions with the build's System.map;
code of a loaded module (tux_ceiling.ko) is resolved with the .ko's own
symbols, after finding its load address from the counted addresses; the
lower half of the address space is one bucket, [user].

Clean per-request numbers, by difference: the guest is booted twice with
the same parameters except the load's duration, --base-secs (1) and --secs
(2) seconds of guest time. Boot, server start, the warm-up wget, wrk's start
and the result parsing are the same work in both boots; the difference is
only the extra seconds of load. Each function's instructions per request are

    (count[--secs boot] - count[--base-secs boot]) / (requests[--secs] - requests[--base-secs])

with requests from the guest's BENCH lines (wrk's count). This needs no
change to the guest and no trigger in the plugin. Residual noise (timer
ticks landing elsewhere, boot differences) shows as small negative entries;
their sum is printed. --base-secs 0 skips the baseline boot and reports the
raw counts of the whole boot divided by the run's requests (not clean).

Counts are per translated block, attributed to the function holding the
block's first instruction (a block ends at every branch and call, so it
rarely spans two functions). A `rep movs`/`stos` counts once per iteration,
as -icount does. Under -cpu max TCG has no FSRM, so the kernel's memcpy is
memcpy_orig and user copies go through rep_movs_alternative.

--callers FUNC,... (kernel functions from System.map, at most 16) also
splits those functions' instructions by call site: the last call
instruction the vCPU executed before entering the function (for memcpy,
reached by a jump from __memcpy, that is the caller's `call memcpy`).

Usage:
  tools/bench/profile.py --server tux --size 1k --mode keepalive --conns 1
  tools/bench/profile.py --server tux --callers memcpy_orig,rep_movs_alternative
  tools/bench/profile.py --analyse DIR            # re-read a finished profile
  tools/bench/profile.py --compare DIR DIR...     # functions side by side
  tools/bench/profile.py --compare A B --by-diff  # where A spends more than B
  tools/bench/profile.py --build-plugin           # only build tuxprof.so

The plugin is built on demand into $TUX_CACHE/tuxprof.so (gcc). Each
profile goes into --out (default $TUX_CACHE/profile/SERVER-SIZE-MODE-cCONNS):
the raw counts (counts-*.txt), the console logs, copies of the kernel,
System.map and modules used, profile.json and profile.md.
"""

import argparse
import bisect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing bench.py: no __pycache__ in tools/bench
import tuxvm  # noqa: E402
import bench  # noqa: E402

CACHE = os.environ.get("TUX_CACHE", os.path.expanduser("~/.cache/tux"))
PLUGIN_SRC = os.path.join(HERE, "profile", "tuxprof.c")
KERNEL_HALF = 0xffff800000000000
KERNEL_MAP = 0xffffffff80000000      # kernel image mapping (text, data)
MODULES_START = 0xffffffffa0000000   # MODULES_VADDR without KASLR
MODULES_END = 0xffffffffff000000


def log(msg):
    tuxvm.log(f"profile: {msg}")


# ---------------------------------------------------------------- build ---

def build_plugin(cache):
    """Compile tuxprof.c into $TUX_CACHE/tuxprof.so if it is missing or stale."""
    so = os.path.join(cache, "tuxprof.so")
    if not os.path.exists(so) or os.path.getmtime(so) < os.path.getmtime(PLUGIN_SRC):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-fvisibility=hidden",
                        "-o", so + ".tmp", PLUGIN_SRC, "-lpthread"], check=True)
        os.replace(so + ".tmp", so)
        log(f"built {so}")
    return so


def build_initrd(cache, out):
    """The bench payload (bench.build_payload: same document root, same
    programs, the HTTPS servers' certificates and agent), in a file of our
    own with the snapshot's modules, so that a `make bench` running
    meanwhile keeps its own initramfs."""
    return bench.build_payload(cache, initrd=os.path.join(out, "initramfs.cpio.gz"),
                               modules=os.path.join(out, "modules"))


def snapshot_kernel(args, out):
    """Copy the kernel, its System.map and modules: a rebuild meanwhile
    (other engineers share $TUX_CACHE) cannot mix two builds."""
    kernel = os.path.realpath(args.kernel)
    smap = args.system_map
    k_m, s_m = os.path.getmtime(kernel), os.path.getmtime(smap)
    if abs(k_m - s_m) > 600:
        log(f"warning: {kernel} and {smap} are {abs(k_m - s_m):.0f} s apart: "
            "are they the same build?")
    shutil.copy2(kernel, os.path.join(out, "bzImage"))
    shutil.copy2(smap, os.path.join(out, "System.map"))
    mods = os.path.join(out, "modules")
    shutil.rmtree(mods, ignore_errors=True)
    os.makedirs(mods)
    for name in os.listdir(args.modules):
        if name.endswith(".ko"):
            shutil.copy2(os.path.join(args.modules, name), mods)
    if os.path.getmtime(kernel) != k_m or os.path.getmtime(smap) != s_m:
        raise SystemExit("the kernel was rebuilt while being copied; run again")


# ----------------------------------------------------------------- boot ---

def boot(kernel, initrd, plugin, counts, params, console, timeout, callers="", shift=0):
    """One icount boot with the plugin; returns the BENCH records."""
    append = " ".join(f"BENCH_{k.upper()}={v}" for k, v in params.items()) + " nokaslr"
    argv = tuxvm.qemu_argv(kernel, initrd, "bench", [], smp=2, mem="2048M", append=append)
    argv = bench.icount_argv(argv, shift)
    argv += ["-plugin", f"file={plugin},out={counts}" + (f",callers={callers}" if callers else "")]
    for stale in (counts, counts + ".callers"):
        if os.path.exists(stale):
            os.unlink(stale)
    records, errors = [], []
    t0 = time.monotonic()
    with open(console, "w") as con:
        con.write(" ".join(argv) + "\n")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                con.write(line + "\n")
                if line.startswith("BENCH {"):
                    rec = json.loads(line[6:])
                    records.append(rec)
                    log(f"  [{time.monotonic() - t0:4.0f}s] {rec['server']} {rec['size']} "
                        f"{rec['mode']} c={rec['conns']} {rec['secs']} s: "
                        f"{rec['requests']} requests")
                elif line.startswith("BENCH-ERROR") or line.startswith("tuxprof:"):
                    log(f"  {line}")
                    if line.startswith("BENCH-ERROR"):
                        errors.append(line)
                if time.monotonic() - t0 > timeout:
                    errors.append(f"timed out after {timeout} s")
                    break
            # The guest powers off after TUX-BENCH-END; QEMU then runs the
            # plugin's atexit callback. SIGTERM also exits cleanly.
            try:
                proc.wait(timeout=max(30, timeout - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    if not os.path.exists(counts):
        errors.append(f"no counts written to {counts}")
    return records, errors, time.monotonic() - t0


# ------------------------------------------------------------- symbols ---

def read_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            a, n = line.split()
            counts[int(a, 16)] = counts.get(int(a, 16), 0) + int(n)
    return counts


class Symbols:
    """Kernel text symbols from System.map (address -> enclosing function)."""

    def __init__(self, system_map):
        syms = {}
        end = None
        with open(system_map) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                addr, typ, name = int(parts[0], 16), parts[1], parts[2]
                if name == "_end":
                    end = addr
                if typ not in "tTwW" or addr < KERNEL_MAP:
                    continue
                # Aliases: keep the first name, but not a __pfx_ padding label.
                if addr not in syms or syms[addr].startswith("__pfx_"):
                    syms[addr] = name
        self.addrs = sorted(syms)
        self.names = [syms[a] for a in self.addrs]
        self.end = end or (self.addrs[-1] + 0x1000)

    def lookup(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or addr >= self.end:
            return None
        return self.names[i]

    def offset(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        return addr - self.addrs[i] if i >= 0 and addr < self.end else None


def symbol_ranges(system_map, names):
    """'S-E:S-E' (hex) for the plugin's callers=: each named function of
    System.map, up to the next symbol."""
    sym = Symbols(system_map)
    out = []
    for name in names:
        try:
            i = sym.names.index(name)
        except ValueError:
            raise SystemExit(f"--callers: no function {name!r} in {system_map}")
        end = sym.addrs[i + 1] if i + 1 < len(sym.addrs) else sym.end
        out.append(f"{sym.addrs[i]:x}-{end:x}")
    return ":".join(out)


def read_callers(path):
    """{(function start, call site): [insns, entries]} from a .callers file."""
    out = {}
    if os.path.exists(path):
        for line in open(path):
            t, c, n, e = line.split()
            v = out.setdefault((int(t, 16), int(c, 16)), [0, 0])
            v[0] += int(n)
            v[1] += int(e)
    return out


def ko_text_symbols(ko):
    """(text size, [(offset, name)]) of a .ko's executable, non-init sections,
    laid out as the module loader does (section order, each aligned)."""
    out = subprocess.run(["readelf", "-SW", ko], capture_output=True, text=True,
                         check=True).stdout
    offsets, size = {}, 0
    for m in re.finditer(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+"
                         r"([0-9a-f]+)\s+[0-9a-f]+\s+(\S*)\s+\d+\s+\d+\s+(\d+)\s*$",
                         out, re.M):
        idx, name, sz, flags, align = (int(m[1]), m[2], int(m[3], 16), m[4], int(m[5]))
        if "A" not in flags or "X" not in flags or name.startswith(".init"):
            continue
        align = max(align, 1)
        size = (size + align - 1) // align * align
        offsets[idx] = size
        size += sz
    out = subprocess.run(["readelf", "-sW", ko], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) < 8 or p[3] != "FUNC" or not p[6].isdigit():
            continue
        idx = int(p[6])
        if idx in offsets:
            off = offsets[idx] + int(p[1], 16)
            syms.setdefault(off, p[7])
    return size, sorted(syms.items())


def fit_modules(module_dir, addrs):
    """Find where each .ko's text was loaded: the page-aligned base under
    which most counted block addresses fall on the module's function starts.
    Returns [(base, size, [(offset, name)], module name)]."""
    mod_addrs = sorted(a for a in addrs if MODULES_START <= a < MODULES_END)
    if not mod_addrs or not os.path.isdir(module_dir):
        return []
    fits = []
    for ko in sorted(os.listdir(module_dir)):
        if not ko.endswith(".ko"):
            continue
        size, syms = ko_text_symbols(os.path.join(module_dir, ko))
        if not syms:
            continue
        starts = {off for off, _ in syms}
        pages = (size + 0xfff) // 0x1000
        cands = {(a & ~0xfff) - k * 0x1000 for a in mod_addrs for k in range(pages)}
        best = None
        for base in cands:
            lo = bisect.bisect_left(mod_addrs, base)
            hi = bisect.bisect_left(mod_addrs, base + size)
            score = sum(1 for a in mod_addrs[lo:hi] if a - base in starts)
            if score and (best is None or score > best[0]):
                best = (score, base)
        if best and best[0] >= 3:
            fits.append((best[0], best[1], size, syms, ko[:-3]))
    fits.sort(reverse=True)
    chosen = []
    for score, base, size, syms, name in fits:
        if all(base + size <= b or b + s <= base for b, s, _, _ in chosen):
            chosen.append((base, size, syms, name))
    return chosen


class Resolver:
    def __init__(self, system_map, module_dir, addrs):
        self.kernel = Symbols(system_map)
        self.modules = fit_modules(module_dir, addrs)
        self.cache = {}

    def bucket(self, addr):
        """'kernel', 'module' or 'user'."""
        if addr < KERNEL_HALF:
            return "user"
        if MODULES_START <= addr < MODULES_END:
            return "module"
        return "kernel"

    def name(self, addr):
        if addr in self.cache:
            return self.cache[addr]
        if addr < KERNEL_HALF:
            n = "[user]"
        elif MODULES_START <= addr < MODULES_END:
            n = "[module ?]"
            for base, size, syms, mod in self.modules:
                if base <= addr < base + size:
                    i = bisect.bisect_right([o for o, _ in syms], addr - base) - 1
                    n = f"{syms[i][1]} [{mod}]" if i >= 0 else f"[{mod}]"
        elif addr >= KERNEL_MAP:
            n = self.kernel.lookup(addr) or "[kernel ?]"
        else:
            n = "[kernel ?]"
        self.cache[addr] = n
        return n

    def site(self, addr):
        """(function, '+0xOFFSET') of a kernel text address."""
        off = self.kernel.offset(addr) if addr >= KERNEL_MAP and self.bucket(addr) == "kernel" \
            else None
        return self.name(addr), (f"+{off:#x}" if off is not None else "")


def demangle_all(names):
    """Rust v0 symbols (_R...) through c++filt, crate hashes dropped."""
    rust = sorted({n.split(" [")[0] for n in names if n.startswith("_R")})
    table = {}
    if rust:
        try:
            out = subprocess.run(["c++filt"], input="\n".join(rust) + "\n", text=True,
                                 capture_output=True, check=True).stdout.splitlines()
            for m, d in zip(rust, out):
                table[m] = re.sub(r"\[[0-9a-f]{16}\]", "", d)
        except (OSError, subprocess.CalledProcessError):
            pass

    def one(n):
        base, _, rest = n.partition(" [")
        d = table.get(base, base)
        return d + (" [" + rest if rest else "")
    return {n: one(n) for n in names}


# -------------------------------------------------------------- analyse ---

def by_function(counts, res):
    funcs, buckets = {}, {"kernel": 0, "module": 0, "user": 0}
    for addr, n in counts.items():
        name = res.name(addr)
        funcs[name] = funcs.get(name, 0) + n
        buckets[res.bucket(addr)] += n
    return funcs, buckets


def analyse(out):
    meta = json.load(open(os.path.join(out, "meta.json")))
    main = read_counts(os.path.join(out, "counts-main.txt"))
    base = (read_counts(os.path.join(out, "counts-base.txt"))
            if meta["base_secs"] else {})
    res = Resolver(os.path.join(out, "System.map"), os.path.join(out, "modules"),
                   set(main) | set(base))
    fm, bm = by_function(main, res)
    fb, bb = by_function(base, res)
    reqs = meta["requests_main"] - (meta["requests_base"] if meta["base_secs"] else 0)
    if reqs <= 0:
        raise SystemExit(f"no extra requests between the two boots ({reqs})")
    delta = {k: fm.get(k, 0) - fb.get(k, 0) for k in set(fm) | set(fb)}
    total = sum(delta.values())
    neg = sum(v for v in delta.values() if v < 0)
    names = demangle_all(list(delta))
    funcs = sorted(({"name": names[k], "symbol": k, "per_req": v / reqs,
                     "share": v / total if total else 0}
                    for k, v in delta.items() if v), key=lambda f: -f["per_req"])
    callers = {}
    if meta.get("callers"):
        cm = read_callers(os.path.join(out, "counts-main.txt.callers"))
        cb = read_callers(os.path.join(out, "counts-base.txt.callers"))
        agg = {}
        for key in set(cm) | set(cb):
            t, c = key
            tname, (cname, off) = res.name(t), (res.site(c) if c else ("[unknown]", ""))
            m, b = cm.get(key, [0, 0]), cb.get(key, [0, 0])
            v = agg.setdefault((tname, cname, off), [0, 0])
            v[0] += m[0] - b[0]
            v[1] += m[1] - b[1]
        cnames = demangle_all([c for _, c, _ in agg])
        for (tname, cname, off), (n, e) in agg.items():
            callers.setdefault(tname, []).append(
                {"caller": cnames[cname] + off, "per_req": n / reqs, "calls_per_req": e / reqs})
        for v in callers.values():
            v.sort(key=lambda x: -x["per_req"])
    result = dict(meta, requests=reqs, total_per_req=total / reqs, callers=callers,
                  buckets_per_req={k: (bm[k] - bb.get(k, 0)) / reqs for k in bm},
                  noise_per_req=neg / reqs,
                  modules=[{"name": m, "base": hex(b), "size": s}
                           for b, s, _, m in res.modules],
                  raw_main=sum(main.values()), raw_base=sum(base.values()),
                  groups_per_req=groups(funcs), functions=funcs)
    with open(os.path.join(out, "profile.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


# A coarse grouping by (demangled) name; the first match wins.
GROUPS = [
    ("user", r"^\[user\]$"),
    ("ceiling module", r"\[tux_ceiling\]$"),
    ("tux code", r"tux::|^tux_"),
    ("copies", r"^_*(memcpy|memmove|memset|rep_movs|rep_stos|clear_user|copy_|csum_)"),
    ("rest of the kernel", r""),
]


def groups(functions):
    out = {g: 0.0 for g, _ in GROUPS}
    for f in functions:
        for g, rx in GROUPS:
            if re.search(rx, f["name"]):
                out[g] += f["per_req"]
                break
    return out


def short(name, width):
    return name if len(name) <= width else name[:width - 1] + "…"


def busy_line(r):
    """How much of the extra guest time the vCPUs spent executing: under -icount the
    clock advances one instruction per 2^shift ns, and idle time (both vCPUs halted)
    passes without instructions."""
    shift = r.get("icount_shift", 0)
    extra = r["secs"] - r["base_secs"]  # without a base boot, base_secs and raw_base are 0
    budget = extra * 1e9 / (1 << shift)
    executed = r["raw_main"] - r["raw_base"]
    return (f"-icount shift={shift}: {executed / 1e6:.0f} M instructions executed in the "
            f"extra {extra} s of guest time, {100 * executed / budget:.0f}% of the "
            f"{budget / 1e6:.0f} M the clock allows (the rest is idle time).")


def report(r, top):
    w = f"{r['server']} {r['size']} {r['mode']} c={r['conns']}"
    b = r["buckets_per_req"]
    lines = [f"### {w}", "",
             f"{r['requests']} requests in the extra {r['secs'] - r['base_secs']} s of load "
             f"({r['requests_main']} in {r['secs']} s"
             + (f", {r['requests_base']} in {r['base_secs']} s" if r["base_secs"] else "")
             + "); guest instructions per request: "
             f"**{r['total_per_req']:.0f}** = kernel {b['kernel']:.0f} + module "
             f"{b['module']:.0f} + user {b['user']:.0f}; "
             f"noise (sum of negative entries) {r['noise_per_req']:.0f}.", "",
             busy_line(r), "",
             "By group: " + ", ".join(f"{g} {v:.0f}" for g, v in r["groups_per_req"].items())
             + ".", "",
             "| # | instructions/req | % | function |", "|---|---:|---:|---|"]
    for i, f in enumerate(r["functions"][:top], 1):
        lines.append(f"| {i} | {f['per_req']:.0f} | {100 * f['share']:.1f} | "
                     f"`{short(f['name'], 90)}` |")
    for target, cs in r.get("callers", {}).items():
        total = sum(c["per_req"] for c in cs)
        lines += ["", f"Call sites of `{target}` ({total:.0f} instructions/req; the last "
                  "call instruction executed before it was entered):", "",
                  "| instructions/req | entries/req | call site |", "|---:|---:|---|"]
        for c in cs[:top]:
            if abs(c["per_req"]) >= 0.5:
                lines.append(f"| {c['per_req']:.0f} | {c['calls_per_req']:.2f} | "
                             f"`{short(c['caller'], 90)}` |")
    return "\n".join(lines) + "\n"


def compare(dirs, top, by_diff=False):
    """Functions side by side; by_diff: the top functions by the first
    profile's excess over the second, with a difference column."""
    rs = [json.load(open(os.path.join(d, "profile.json"))) for d in dirs]
    heads = [f"{r['server']} {r['size']} {r['mode']} c={r['conns']}" for r in rs]
    per = [{f["name"]: f["per_req"] for f in r["functions"]} for r in rs]
    if by_diff:
        if len(rs) != 2:
            raise SystemExit("--by-diff compares exactly two profiles")
        names = set(per[0]) | set(per[1])
        diff = {k: per[0].get(k, 0) - per[1].get(k, 0) for k in names}
        keys = sorted(names, key=lambda k: -diff[k])[:top]
        heads.append("difference")
        per.append(diff)
        rs = rs + [{"total_per_req": rs[0]["total_per_req"] - rs[1]["total_per_req"],
                    "buckets_per_req": {b: rs[0]["buckets_per_req"][b] -
                                        rs[1]["buckets_per_req"][b]
                                        for b in rs[0]["buckets_per_req"]},
                    "functions": [{"name": k, "per_req": v} for k, v in diff.items()]}]
    else:
        keys = set()
        for r in rs:
            keys |= {f["name"] for f in r["functions"][:top]}
        keys = sorted(keys, key=lambda k: -max(p.get(k, 0) for p in per))
    lines = ["| function | " + " | ".join(heads) + " |",
             "|---|" + "---:|" * len(rs),
             "| **total** | " + " | ".join(f"**{r['total_per_req']:.0f}**" for r in rs) + " |"]
    for bk in ("kernel", "module", "user"):
        lines.append(f"| ({bk}) | " + " | ".join(f"{r['buckets_per_req'][bk]:.0f}"
                                                  for r in rs) + " |")
    for g, _ in GROUPS:
        lines.append(f"| (group: {g}) | " + " | ".join(
            f"{groups(r['functions'])[g]:.0f}" for r in rs) + " |")
    for k in keys:
        lines.append(f"| `{short(k, 70)}` | " + " | ".join(f"{p.get(k, 0):.0f}" for p in per)
                     + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--server", choices=bench.SERVERS, default="tux")
    ap.add_argument("--size", choices=list(bench.SIZES), default="1k")
    ap.add_argument("--mode", choices=["keepalive", "close"], default="keepalive")
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--secs", type=int, default=2, help="load, guest seconds (default 2)")
    ap.add_argument("--base-secs", type=int, default=1,
                    help="load of the baseline boot (default 1; 0: no baseline boot)")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--icount-shift", type=int, default=0,
                    help="-icount shift (default 0; make bench runs 2); the report says "
                    "which share of the extra guest time the vCPUs were executing")
    ap.add_argument("--kernel", default=os.path.join(CACHE, "bzImage-lean"))
    ap.add_argument("--system-map", default=os.path.join(CACHE, "build-lean", "System.map"))
    ap.add_argument("--modules", default=os.path.join(CACHE, "modules-lean"))
    ap.add_argument("--out", help="default $TUX_CACHE/profile/SERVER-SIZE-MODE-cCONNS")
    ap.add_argument("--timeout", type=int, default=900, help="per boot, wall seconds")
    ap.add_argument("--callers", metavar="FUNC[,FUNC]",
                    help="also split these kernel functions' instructions by call site "
                    "(System.map names, at most 16)")
    ap.add_argument("--analyse", metavar="DIR", help="only re-analyse a finished profile")
    ap.add_argument("--compare", metavar="DIR", nargs="+",
                    help="side-by-side table of finished profiles")
    ap.add_argument("--by-diff", action="store_true",
                    help="with --compare A B: functions where A spends most over B")
    ap.add_argument("--build-plugin", action="store_true",
                    help="only build $TUX_CACHE/tuxprof.so and print its path")
    args = ap.parse_args()

    if args.build_plugin:
        print(build_plugin(CACHE))
        return 0
    if args.compare:
        print(compare(args.compare, args.top, args.by_diff))
        return 0
    if args.analyse:
        r = analyse(args.analyse)
        md = report(r, args.top)
        open(os.path.join(args.analyse, "profile.md"), "w").write(md)
        print(md)
        return 0
    if args.secs <= args.base_secs:
        raise SystemExit("--secs must be larger than --base-secs")

    out = args.out or os.path.join(
        CACHE, "profile", f"{args.server}-{args.size}-{args.mode}-c{args.conns}")
    os.makedirs(out, exist_ok=True)
    t0 = time.monotonic()
    plugin = build_plugin(CACHE)
    snapshot_kernel(args, out)
    log("building the bench initramfs")
    initrd = build_initrd(CACHE, out)
    params = {"servers": args.server, "sizes": args.size, "modes": args.mode,
              "conns": args.conns, "runs": 1, "mem_conns": 0}
    meta = {"server": args.server, "size": args.size, "mode": args.mode,
            "conns": args.conns, "secs": args.secs, "base_secs": args.base_secs,
            "icount_shift": args.icount_shift,
            "kernel": os.path.realpath(args.kernel),
            "callers": args.callers.split(",") if args.callers else []}
    ranges = symbol_ranges(os.path.join(out, "System.map"), meta["callers"])
    boots = [("main", args.secs)] + ([("base", args.base_secs)] if args.base_secs else [])
    for tag, secs in boots:
        log(f"{tag} boot: {secs} s of {args.server} {args.size} {args.mode} c={args.conns}")
        recs, errors, took = boot(os.path.join(out, "bzImage"), initrd, plugin,
                                  os.path.join(out, f"counts-{tag}.txt"),
                                  dict(params, secs=secs), os.path.join(out, f"console-{tag}.log"),
                                  args.timeout, ranges, args.icount_shift)
        if errors or len(recs) != 1:
            raise SystemExit(f"{tag} boot failed: {errors or recs} (see {out}/console-{tag}.log)")
        if recs[0]["errors"] or recs[0]["non2xx"]:
            log(f"warning: {tag} run had errors: {recs[0]}")
        meta[f"requests_{tag}"] = recs[0]["requests"]
        meta[f"record_{tag}"] = recs[0]
        meta[f"wall_s_{tag}"] = round(took)
        log(f"{tag} boot took {took:.0f} s")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    r = analyse(out)
    md = report(r, args.top)
    open(os.path.join(out, "profile.md"), "w").write(md)
    print(md)
    log(f"done in {time.monotonic() - t0:.0f} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
