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
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tuxvm  # noqa: E402

CACHE = os.environ.get("TUX_CACHE", os.path.expanduser("~/.cache/tux"))
URL = "http://127.0.0.1:80/"
ROUNDS = [
    ("pipelined", "SOAK_PIPELINE=1", f"-c 8 -s /tests/final/soak.lua {URL}"),
    ("single", "", f"-c 64 -s /tests/final/soak.lua {URL}"),
    ("close", "", f"-c 16 -H 'Connection: close' {URL}1k.bin"),
    ("keepalive", "", f"-c 8 {URL}1k.bin"),
]


class Guest:
    """A guest in run mode, driven through its console shell."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip("\r\n"))

    def wait_for(self, pattern, timeout, start=0):
        """The first line from index `start` matching `pattern`, or None."""
        end = time.time() + timeout
        while time.time() < end:
            for line in self.lines[start:]:
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None:
                return None
            time.sleep(0.5)
        return None

    def run(self, cmd, timeout):
        """Runs `cmd` in the guest's shell; returns the lines it printed."""
        start = len(self.lines)
        tag = f"GUEST-RATES-DONE-{start}"
        self.proc.stdin.write(f"{cmd}; echo {tag}\n".encode())
        self.proc.stdin.flush()
        if self.wait_for(f"^{tag}$", timeout, start) is None:
            raise SystemExit(f"guest command timed out: {cmd}")
        return self.lines[start:]

    def kill(self):
        self.proc.kill()
        self.proc.wait()


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
    guest = Guest(tuxvm.qemu_argv(args.kernel, args.initrd, "run", []))
    try:
        t0 = time.time()
        # tools/guest/init prints this once the shell is up.
        if guest.wait_for("poweroff -f", args.boot_timeout) is None:
            raise SystemExit("the guest did not reach its shell")
        print(f"booted in {time.time() - t0:.0f} s", flush=True)
        guest.run("echo 30 >/proc/sys/net/tux/header_timeout", 60)
        for name, env, wrk_args in ROUNDS:
            out = guest.run(f"env {env} wrk -t 2 -d {args.secs}s --timeout 20s {wrk_args} 2>&1",
                            args.secs + 120)
            rate = next((l.split()[-1] for l in out if l.startswith("Requests/sec")), None)
            errors = [l.strip() for l in out if "Socket errors" in l or "Non-2xx" in l]
            print(f"{name:10} {rate or 'no result'} requests/s  {' '.join(errors)}", flush=True)
    finally:
        guest.kill()


if __name__ == "__main__":
    main()
