#!/usr/bin/env python3
"""Request rates of the soak's rounds inside a guest, for sizing the soak.

Boots a kernel (by default the debug one) in run mode with the test
initramfs that `make test` built, and runs wrk inside the guest against the
in-kernel server for each kind of round of tools/guest/tests/debug/97-soak.sh:

  pipelined   the soak mix, twice per write, 8 connections
  single      the mix one request per write, 64 connections
  close       a connection per request (1k.bin), 16 connections
  keepalive   plain keep-alive GETs of 1k.bin, 8 connections

and prints wrk's requests/s for each. Wall-clock rates under TCG: they
depend on the host, so compare kernels on one machine, in one sitting.

  tools/test/guest_rates.py [--kernel K] [--initrd I] [--secs 20]

Not part of `make test`: a measurement, not a test.
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tuxvm  # noqa: E402
from e2e import Console  # noqa: E402

CACHE = os.environ.get("TUX_CACHE", os.path.expanduser("~/.cache/tux"))
URL = "http://127.0.0.1:80/"
ROUNDS = [
    ("pipelined", "SOAK_PIPELINE=1", f"-c 8 -s /tests/final/soak.lua {URL}"),
    ("single", "", f"-c 64 -s /tests/final/soak.lua {URL}"),
    ("close", "", f"-c 16 -H 'Connection: close' {URL}1k.bin"),
    ("keepalive", "", f"-c 8 {URL}1k.bin"),
]


def shell(con, cmd, timeout):
    """Runs `cmd` in the run-mode guest's console shell; returns the lines it printed."""
    start = len(con.lines)
    # The marker is computed by the guest's shell, so the echo of the typed line
    # (which holds "$((...))", not the number) cannot match it.
    marker = f"GUEST-RATES-DONE-{start + 1}"
    con.send(f"{cmd}; echo GUEST-RATES-DONE-$(({start} + 1))\n")
    if not con.wait_for(marker, time.monotonic() + timeout):
        raise SystemExit(f"guest command timed out: {cmd}")
    return con.lines[start:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default=os.path.join(CACHE, "bzImage-debug"))
    ap.add_argument("--initrd", default=os.path.join(CACHE, "fixture", "initramfs-debug.cpio.gz"))
    ap.add_argument("--secs", type=int, default=20, help="per round (default 20)")
    ap.add_argument("--boot-timeout", type=int, default=900)
    args = ap.parse_args()
    for f in (args.kernel, args.initrd):
        if not os.path.exists(f):
            raise SystemExit(f"{f}: not found (make test builds the kernels and initramfs)")
    proc = subprocess.Popen(tuxvm.qemu_argv(args.kernel, args.initrd, "run", []),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    log = os.path.join(CACHE, "logs", "guest-rates-console.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    con = Console(proc, log, echo=False)
    try:
        t0 = time.monotonic()
        # tools/guest/init prints this once the shell is up.
        if not con.wait_for("poweroff -f", t0 + args.boot_timeout):
            raise SystemExit(f"the guest did not reach its shell (console: {log})")
        print(f"booted in {time.monotonic() - t0:.0f} s", flush=True)
        shell(con, "echo 30 >/proc/sys/net/tux/header_timeout", 60)
        for name, env, wrk_args in ROUNDS:
            out = shell(con, f"env {env} wrk -t 2 -d {args.secs}s --timeout 20s {wrk_args} 2>&1",
                        args.secs + 120)
            rate = next((l.split()[-1] for l in out if l.startswith("Requests/sec")), None)
            errors = [l.strip() for l in out if "Socket errors" in l or "Non-2xx" in l]
            print(f"{name:10} {rate or 'no result'} requests/s  {' '.join(errors)}", flush=True)
    finally:
        proc.kill()
        proc.wait()

if __name__ == "__main__":
    main()
