#!/usr/bin/env python3
"""make bench: TUX against nginx and lighttpd, in one guest, on two clocks.

Boots the lean TUX kernel under QEMU with the bench payload (nginx,
lighttpd, wrk, tools/bench/guest-bench.sh) and measures every server on the
same workloads in the same boot:

  * files of 1 KiB, 16 KiB and 1 MiB;
  * keep-alive, and a new connection per request (Connection: close);
  * 1, 32 and 256 concurrent connections (wrk, inside the guest, loopback).

Two clocks: wall clock under multi-threaded TCG, and QEMU -icount (guest
time proportional to guest instructions, so ratios repeat run to run). The
icount pass runs at -icount shift=2 (4 ns per instruction, a quarter of the
host time of shift=0) and its figures are normalised to shift=0: req/s are
requests per 10^9 guest instructions. Each figure is the median of --runs
runs, reported with its spread (min..max). Every run prints a progress line
(clock, elapsed time, run k of n).

The ceiling is tux_ceiling.ko (CONFIG_TUX_BENCH_CEILING, bench only): the
same accept and send machinery as TUX with canned responses of the same
sizes, no parsing and no files. tux/ceiling is the share of the achievable
rate that TUX reaches.

Memory (wall-clock boot, or the only boot): kernel memory plus server RSS per idle
keep-alive connection, over --mem-conns (10,000) connections held by
idleconns (tools/guest/tuxcall), for tux, nginx and lighttpd.

Writes results.json, results.md (tables with the ratios tux/nginx,
tux/lighttpd and tux/ceiling, and the memory table) and one SVG chart per
clock into --out (default Documentation/benchmarks/). --quick: 1 KiB and
1 MiB keep-alive, 32 connections, 1 run, 1 s, 1,000 idle connections, for
iteration.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import tuxvm  # noqa: E402

SIZES = {"1k": 1024, "16k": 16 * 1024, "1m": 1024 * 1024}
SERVERS = ["tux", "nginx", "lighttpd", "ceiling", "tux-https", "nginx-https", "nginx-ktls"]
# The HTTPS peers (same certificate, TLS 1.3) and the workloads they run:
# 1 KiB and 1 MiB keep-alive, 1 KiB with a full handshake per request.
HTTPS_SERVERS = ["tux-https", "nginx-https", "nginx-ktls"]
HTTPS_WORKLOADS = [("1k", "keepalive"), ("1m", "keepalive"), ("1k", "close")]
PLAIN_SERVERS = [s for s in SERVERS if s not in HTTPS_SERVERS]


def log(msg):
    tuxvm.log(f"bench: {msg}")


def bench_www(cache):
    """The bench document root (cache/bench/www): one file per SIZES entry,
    same seeded contents every time; written atomically."""
    www = os.path.join(cache, "bench", "www")
    os.makedirs(www, exist_ok=True)
    rng = random.Random(4242)
    for name, size in SIZES.items():
        path = os.path.join(www, f"{name}.bin")
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path + ".tmp", "wb") as f:
                f.write(rng.randbytes(size))
            os.replace(path + ".tmp", path)
        os.chmod(path, 0o644)
    return www


def icount_argv(argv, shift):
    """argv of tuxvm.qemu_argv turned to the icount clock: single-threaded
    TCG, -icount shift=SHIFT (one guest instruction per 2^SHIFT ns)."""
    i = argv.index("tcg,thread=multi")
    return argv[:i] + ["tcg,thread=single", "-icount", f"shift={shift}"] + argv[i + 1:]


def normalise_icount(rec, shift):
    """Scales an icount record to shift=0, one instruction per nanosecond:
    requests/s times 2^shift, latencies divided by it. A CPU-bound run's
    figures then do not depend on the shift, which only sets how many
    instructions (how much host time) one second of guest time holds."""
    f = 1 << shift
    rec["icount_shift"] = shift
    rec["rps"] = float(rec["rps"]) * f
    for k in ("p50_us", "p90_us", "p99_us", "max_us"):
        if rec.get(k, -1) >= 0:
            rec[k] = rec[k] / f


def build_payload(cache, initrd=None, modules=None):
    """The bench initramfs, by default cache/bench/initramfs.cpio.gz with the
    lean build's modules: the servers, wrk, curl, the test certificates and
    the release builds of idleconns and tux (the handshake agent)."""
    www = bench_www(cache)
    initrd = initrd or os.path.join(cache, "bench", "initramfs.cpio.gz")
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "tux-guest-tests",
                    "--bin", "idleconns"], cwd=ROOT, check=True)
    # The handshake agent, optimised: rustls' handshakes in a debug build
    # would measure the build, not the design.
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "tux", "--bin", "tux"],
                   cwd=ROOT, check=True)
    tls = os.path.join(cache, "tls-test")
    subprocess.run([os.path.join(ROOT, "tools", "test", "tls-certs.sh"), tls], check=True)
    release = os.path.join(ROOT, "target", "release")
    env = dict(os.environ, TUX_GUEST_BENCH="1", GUEST_TLS=tls,
               GUEST_PROGRAMS="/usr/bin/wrk /usr/sbin/nginx /usr/sbin/lighttpd /usr/bin/curl",
               GUEST_TOOLS=" ".join(os.path.join(release, b) for b in ("idleconns", "tux")),
               GUEST_MODULES=modules or os.path.join(cache, "modules-lean"))
    subprocess.run([os.path.join(ROOT, "tools", "mkinitramfs.sh"), initrd, www],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return initrd


def planned_runs(params):
    """How many wrk runs one boot makes."""
    servers = str(params["servers"]).split(",")
    sizes, modes = str(params["sizes"]).split(","), str(params["modes"]).split(",")
    conns = str(params["conns"]).split(",")
    https_conns = [c for c in conns if c in str(params["https_conns"]).split(",")]
    plain = sum(1 for s in servers if s not in HTTPS_SERVERS) * len(sizes) * len(modes)
    https = sum(1 for s in servers if s in HTTPS_SERVERS) * sum(
        1 for w in HTTPS_WORKLOADS if w[0] in sizes and w[1] in modes)
    return (plain * len(conns) + https * len(https_conns)) * int(params["runs"])


def boot(kernel, initrd, clock, params, silence, shift=0, smp=2):
    """One guest run; returns the parsed BENCH records. The guest is given
    up on when it prints nothing for SILENCE seconds."""
    append = " ".join(f"BENCH_{k.upper()}={v}" for k, v in params.items())
    # BENCH_APPEND: more kernel command line, for experiments (e.g.
    # tux.listen=0.0.0.0 to compare TUX's IPv4-only listener).
    append += " " + os.environ.get("BENCH_APPEND", "")
    argv = tuxvm.qemu_argv(kernel, initrd, "bench", [], smp=smp, mem="2048M", append=append)
    if clock == "icount":
        argv = icount_argv(argv, shift)
    records, errors, mem = [], [], []
    total = planned_runs(params)
    t0 = last = time.monotonic()
    timed_out = []

    def watchdog():
        while proc.poll() is None:
            if time.monotonic() - last > silence:
                timed_out.append(f"{clock}: no output for {silence} s")
                proc.kill()
                return
            time.sleep(1)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    threading.Thread(target=watchdog, daemon=True).start()
    try:
        for raw in proc.stdout:
            last = time.monotonic()
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("BENCH {"):
                rec = json.loads(line[6:])
                rec["clock"] = clock
                if clock == "icount":
                    normalise_icount(rec, shift)
                records.append(rec)
                print(f"  [{clock} {time.monotonic() - t0:6.0f}s {len(records)}/{total}] "
                      f"{rec['server']:8} "
                      f"{rec['size']:>3} {rec['mode']:9} c={rec['conns']:<3} run {rec['run']}: "
                      f"{rec['rps']:>10.0f} req/s", flush=True)
            elif line.startswith("BENCH-MEM {"):
                rec = json.loads(line[10:])
                mem.append(rec)
                print(f"  [{clock} {time.monotonic() - t0:6.0f}s] memory {rec['server']:8} "
                      f"{rec['conns']} idle connections: kernel +{rec['kernel_kib']} KiB, "
                      f"user +{rec['user_kib']} KiB", flush=True)
            elif line.startswith("BENCH-ERROR"):
                errors.append(line)
                print(f"  {line}", flush=True)
            elif "TUX-BENCH-END" in line:
                break
    finally:
        proc.kill()
        proc.wait()
    errors += timed_out
    return records, errors, mem


def summarise(records):
    groups = {}
    for r in records:
        key = (r["clock"], r["server"], r["size"], r["mode"], r["conns"])
        groups.setdefault(key, []).append(r)
    rows = []
    for (clock, server, size, mode, conns), rs in sorted(groups.items()):
        rps = [float(r["rps"]) for r in rs]
        reqs = sum(r["requests"] for r in rs)
        jiffies = sum(r["busy_jiffies"] for r in rs)
        rows.append({
            "clock": clock, "server": server, "size": size, "mode": mode, "conns": conns,
            "runs": len(rs),
            "rps": statistics.median(rps), "rps_min": min(rps), "rps_max": max(rps),
            "bytes_per_s": statistics.median(rps) * SIZES[size],
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p90_us": statistics.median(r.get("p90_us", -1) for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "max_us": statistics.median(r.get("max_us", -1) for r in rs),
            # Busy CPU (all vCPUs, server and wrk together) per request, µs.
            "cpu_us_per_req": (jiffies * 10_000 / reqs) if reqs else None,
            # TCP segments (both ends, data and ACKs) per request; older
            # records have none.
            "segs_per_req": (sum(r["segments"] for r in rs) / reqs)
            if reqs and all("segments" in r for r in rs) else None,
            "errors": sum(r["errors"] for r in rs),
            "non2xx": sum(r["non2xx"] for r in rs),
        })
    return rows


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def per_req(r, key, spec):
    """A per-request figure of a summary row, or "-" for a missing row or figure."""
    return format(r[key], spec) if r and r.get(key) else "-"


def markdown(rows, command, mem=()):
    out = [f"Command: `{command}`", ""]
    for clock in sorted({r["clock"] for r in rows}):
        out += [f"### Clock: {clock}", "",
                "| size | mode | conns | tux req/s | nginx req/s | lighttpd req/s | ceiling req/s | "
                "tux/nginx | tux/lighttpd | tux/ceiling | p99 µs tux / nginx | "
                "CPU µs/req tux / nginx | errors |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        keyed = {(r["server"], r["size"], r["mode"], r["conns"]): r
                 for r in rows if r["clock"] == clock}
        for size in SIZES:
            for mode in ("keepalive", "close"):
                for conns in sorted({r["conns"] for r in rows}):
                    t = keyed.get(("tux", size, mode, conns))
                    n = keyed.get(("nginx", size, mode, conns))
                    lt = keyed.get(("lighttpd", size, mode, conns))
                    c = keyed.get(("ceiling", size, mode, conns))
                    if not (t or n or lt or c):
                        continue

                    def cell(r):
                        if not r:
                            return "-"
                        return f"{r['rps']:.0f} ({r['rps_min']:.0f}..{r['rps_max']:.0f})"
                    errs = sum(r["errors"] + r["non2xx"] for r in (t, n, lt, c) if r)
                    out.append(
                        f"| {size} | {mode} | {conns} | {cell(t)} | {cell(n)} | {cell(lt)} | "
                        f"{cell(c)} | "
                        f"{ratio(t and t['rps'], n and n['rps'])} | "
                        f"{ratio(t and t['rps'], lt and lt['rps'])} | "
                        f"{ratio(t and t['rps'], c and c['rps'])} | "
                        f"{t['p99_us'] if t else '-'} / {n['p99_us'] if n else '-'} | "
                        f"{per_req(t, 'cpu_us_per_req', '.0f')} / "
                        f"{per_req(n, 'cpu_us_per_req', '.0f')} | {errs} |")
        out.append("")
        out += https_table(keyed, rows)
    if mem:
        out += ["### Memory per idle keep-alive connection", "",
                "Kernel (Slab + KernelStack + PageTables + TCP buffers) and server RSS, "
                "deltas over the idle connections; both ends of every connection are in "
                "the guest, so each figure includes the client socket's share alike.", "",
                "| server | connections | kernel bytes/conn | user bytes/conn | "
                "total bytes/conn | total vs tux |", "|---|---|---|---|---|---|"]
        per = {m["server"]: (m["kernel_kib"] + max(m["user_kib"], 0)) * 1024 / m["conns"]
               for m in mem}
        for m in mem:
            k = m["kernel_kib"] * 1024 / m["conns"]
            u = max(m["user_kib"], 0) * 1024 / m["conns"]
            out.append(f"| {m['server']} | {m['conns']} | {k:.0f} | {u:.0f} | {k + u:.0f} | "
                       f"{ratio(per[m['server']], per.get('tux'))} |")
        out.append("")
    return "\n".join(out)


def https_table(keyed, rows):
    """The HTTPS rows of one clock: TUX (tux tlsd + kTLS) against nginx with
    OpenSSL, and nginx with kTLS."""
    if not any(s in HTTPS_SERVERS for s, *_ in keyed):
        return []
    out = ["HTTPS (TLS 1.3, the same certificate; `close`: a full handshake per request; "
           "`keepalive`: the steady state, by difference of a run of twice the seconds and "
           "one of the seconds, so that the 32 initial handshakes are not counted; "
           "its p99 includes them):", "",
           "| size | mode | conns | tux-https req/s | nginx-https req/s | nginx-ktls req/s | "
           "tux/nginx-https | tux/nginx-ktls | p99 µs tux / nginx | "
           "CPU µs/req tux / nginx | TCP segments/req tux / nginx | errors |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, mode in HTTPS_WORKLOADS:
        for conns in sorted({r["conns"] for r in rows}):
            t, n, k = (keyed.get((s, size, mode, conns)) for s in HTTPS_SERVERS)
            if not (t or n or k):
                continue

            def cell(r):
                return f"{r['rps']:.0f} ({r['rps_min']:.0f}..{r['rps_max']:.0f})" if r else "-"
            errs = sum(r["errors"] + r["non2xx"] for r in (t, n, k) if r)
            out.append(
                f"| {size} | {mode} | {conns} | {cell(t)} | {cell(n)} | {cell(k)} | "
                f"{ratio(t and t['rps'], n and n['rps'])} | "
                f"{ratio(t and t['rps'], k and k['rps'])} | "
                f"{t['p99_us'] if t else '-'} / {n['p99_us'] if n else '-'} | "
                f"{per_req(t, 'cpu_us_per_req', '.0f')} / {per_req(n, 'cpu_us_per_req', '.0f')} | "
                f"{per_req(t, 'segs_per_req', '.2f')} / {per_req(n, 'segs_per_req', '.2f')} | "
                f"{errs} |")
    out.append("")
    return out


def svg(rows, clock):
    """A grouped bar chart of requests/s per workload (log scale), plain HTTP."""
    import math
    data = [r for r in rows if r["clock"] == clock]
    workloads = sorted({(r["size"], r["mode"], r["conns"]) for r in data},
                       key=lambda w: (list(SIZES).index(w[0]), w[1], w[2]))
    keyed = {(r["server"], r["size"], r["mode"], r["conns"]): r["rps"] for r in data}
    colors = {"tux": "#d62728", "nginx": "#2ca02c", "lighttpd": "#1f77b4", "ceiling": "#7f7f7f"}
    w_group, bar, h, top, left = 72, 16, 300, 40, 60
    width = left + w_group * len(workloads) + 20
    vmax = max([v for v in keyed.values() if v > 0] + [10])
    lmax = math.log10(vmax) + 0.2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h + top + 110}" '
             f'font-family="sans-serif" font-size="10">',
             f'<text x="{left}" y="20" font-size="14">requests/s ({clock} clock, log scale)</text>']
    for d in range(0, int(lmax) + 1):
        y = top + h - h * d / lmax
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 5}" y="{y + 3:.0f}" text-anchor="end">1e{d}</text>')
    for i, (size, mode, conns) in enumerate(workloads):
        x0 = left + i * w_group + 6
        for j, server in enumerate(PLAIN_SERVERS):
            v = keyed.get((server, size, mode, conns), 0)
            bh = h * math.log10(v) / lmax if v > 1 else 0
            parts.append(f'<rect x="{x0 + j * bar}" y="{top + h - bh:.1f}" width="{bar - 2}" '
                         f'height="{bh:.1f}" fill="{colors[server]}"><title>{server} {size} '
                         f'{mode} c={conns}: {v:.0f} req/s</title></rect>')
        label = f"{size} {'ka' if mode == 'keepalive' else 'close'} c{conns}"
        parts.append(f'<text transform="translate({x0 + 20},{top + h + 8}) rotate(60)">{label}</text>')
    for j, server in enumerate(PLAIN_SERVERS):
        parts.append(f'<rect x="{left + j * 90}" y="{top + h + 80}" width="10" height="10" '
                     f'fill="{colors[server]}"/><text x="{left + j * 90 + 14}" y="{top + h + 89}">'
                     f'{server}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "Documentation", "benchmarks"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--secs", type=int, default=2, help="seconds per run, wall clock")
    ap.add_argument("--icount-secs", type=int, default=1,
                    help="seconds of guest time per run, icount clock")
    ap.add_argument("--big-secs", type=int, default=4,
                    help="seconds per run, wall clock, of the workloads that move 64 MiB or "
                    "more at once (connections x file size: 1 MiB at 256 connections)")
    ap.add_argument("--icount-big-secs", type=int, default=4,
                    help="the same for the icount clock. 256 interleaved 1 MiB responses "
                    "all end about 2 s of guest time after they start (shift=2): a 1 s run "
                    "counted the ramp (276 req/s for TUX, 448 in 6 s runs)")
    ap.add_argument("--icount-shift", type=int, default=2,
                    help="QEMU -icount shift: one guest instruction per 2^SHIFT ns. "
                    "Figures are normalised to shift=0; 2 makes a guest second hold "
                    "250 million instructions (about 3.5 s of host time), which keeps "
                    "make bench within 30 minutes")
    ap.add_argument("--silence", type=int, default=900,
                    help="give a guest up after this many seconds without output")
    ap.add_argument("--clocks", default="wall,icount")
    ap.add_argument("--smp", type=int, default=2, help="guest vCPUs (results are for 2)")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--sizes", default=",".join(SIZES), help="a subset of 1k,16k,1m")
    ap.add_argument("--conns", default="1,32,256", help="concurrent connections, comma-separated")
    ap.add_argument("--modes", default="keepalive,close")
    ap.add_argument("--https-conns", default="32",
                    help="the values of --conns at which the HTTPS peers run (on the icount "
                    "clock only: under TCG the wall clock times QEMU's emulation of AES-NI)")
    ap.add_argument("--mem-conns", type=int, default=10000,
                    help="idle keep-alive connections for the memory measurement (0: skip)")
    args = ap.parse_args()

    cache = os.environ.get("TUX_CACHE", os.path.expanduser("~/.cache/tux"))
    params = {"servers": args.servers, "sizes": args.sizes, "conns": args.conns,
              "modes": args.modes, "runs": args.runs, "secs": args.secs,
              "big_secs": args.big_secs, "https_conns": args.https_conns}
    if args.quick:
        params.update(sizes="1k,1m", conns="32", modes="keepalive", runs=1, secs=1)
        args.mem_conns = min(args.mem_conns, 1000)
    command = "make bench" + (" BENCH_QUICK=1" if args.quick else "")
    if any(a.startswith("--") and a not in ("--kernel", "--quick") for a in sys.argv[1:]):
        # Not what make bench runs: say what did.
        command = "tools/bench/bench.py " + " ".join(sys.argv[1:])
    log("building the bench guest (nginx, lighttpd, wrk, tux_ceiling.ko, idleconns, files)")
    initrd = build_payload(cache)
    records, errors, mem = [], [], []
    t0 = time.monotonic()
    for clock in args.clocks.split(","):
        p = dict(params)
        if clock == "icount" and not args.quick:
            p["secs"] = args.icount_secs
            p["big_secs"] = args.icount_big_secs
        if clock == "wall":
            # The wall clock would time QEMU's AES-NI emulation, not the servers.
            p["servers"] = ",".join(s for s in p["servers"].split(",") if s not in HTTPS_SERVERS)
            if not p["servers"]:
                log("wall clock: no server to measure (the HTTPS peers run on icount only)")
                continue
        # Memory does not depend on the clock: measured in one boot only (the
        # wall-clock one if there is one, where it is quicker).
        mem_clock = "wall" if "wall" in args.clocks.split(",") else args.clocks.split(",")[0]
        if clock == mem_clock and args.mem_conns:
            p["mem_conns"] = args.mem_conns
        log(f"{clock} clock: booting; params {p}")
        r, e, m = boot(args.kernel, initrd, clock, p, args.silence, args.icount_shift, args.smp)
        records += r
        errors += e
        mem += m
    rows = summarise(records)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"command": command, "params": params, "icount_shift": args.icount_shift,
                   "icount_secs": args.icount_secs, "icount_big_secs": args.icount_big_secs,
                   "errors": errors, "rows": rows,
                   "memory": mem, "records": records}, f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown(rows, command, mem) + "\n")
    for clock in sorted({r["clock"] for r in rows}):
        with open(os.path.join(args.out, f"rps-{clock}.svg"), "w") as f:
            f.write(svg(rows, clock) + "\n")
    print(markdown(rows, command, mem))
    log(f"done in {time.monotonic() - t0:.0f} s; results in {args.out}")
    if errors:
        log(f"errors: {errors}")
    return 1 if errors or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
