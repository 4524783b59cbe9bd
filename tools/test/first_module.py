#!/usr/bin/env python3
"""make test's run layer: the "Your first module" walk-through of
Documentation/tux/libtux.rst, step by step, and what a user of make run
sees.

1. cargo new outside the tree, libtux as a path dependency and the module
   from the document (its ``toml`` and ``rust`` code blocks), cargo build;
   the C module of the same section with cc and the uapi header.
2. make run MODULES="those two" PORT=<free port>: the guest boots without
   KUnit and with a quiet console, starts the daemon with the default
   configuration and the two programs, and says it is ready. Through the
   forwarded port: the static site, the daemon's modules, the CGI example,
   both of the user's modules; in the guest, tux status and tux stats.
3. make run TUX_CONFIG=<a configuration of the user's>: the daemon runs
   with it (a route only it has answers, the default one does not).

Prints PASS/FAIL lines and "run: N passed, N failed, N expected".
"""

import argparse
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "Documentation", "tux", "libtux.rst")
C_EXAMPLE = os.path.join(ROOT, "tools", "libtux", "examples", "c", "hello.c")
# Every check below, by name: missing ones count as failed.
EXPECTED = [
    "doc-code", "cargo-new", "cargo-build", "cc-c-module",
    "boot1/ready", "boot1/no-kunit", "boot1/quiet", "boot1/static", "boot1/daemon-hello",
    "boot1/daemon-json", "boot1/cgi", "boot1/first-module", "boot1/c-module",
    "boot1/tux-status", "boot1/tux-stats", "boot1/poweroff",
    "boot2/ready", "boot2/own-config", "boot2/default-route-gone", "boot2/no-ipv6-fallback",
    "boot2/status-after-fallback", "boot2/poweroff",
]


class Results:
    def __init__(self):
        self.items = {}

    def add(self, name, ok, detail=""):
        self.items[name] = ok
        print(f"PASS run/{name}" if ok else f"FAIL run/{name} - {detail}", flush=True)
        return ok


def doc_blocks(path):
    """The code blocks of the "Your first module" section: {language: text}."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^Your first module\n=+\n(.*?)(?=^\S[^\n]*\n=+\n)", text, re.S | re.M)
    if not m:
        raise ValueError("no 'Your first module' section")
    blocks = {}
    for bm in re.finditer(r"^( *)\.\. code-block:: (\w+)\n\n", m.group(1), re.M):
        indent = len(bm.group(1))
        lines = []
        for line in m.group(1)[bm.end():].split("\n"):
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            lines.append(line)
        body = "\n".join(lines).rstrip() + "\n"
        strip = min(len(x) - len(x.lstrip()) for x in body.split("\n") if x.strip())
        blocks[bm.group(2)] = "\n".join(x[strip:] for x in body.split("\n"))
    return blocks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=20):
    """(status, body) of GET path through the forwarded port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception as e:  # noqa: BLE001 - reported as the check's detail
        return None, str(e).encode()


class Guest:
    """make run in the tree, its console on a pipe."""

    def __init__(self, args, env, log):
        self.log = open(log, "w", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen(["make", "--no-print-directory", "run", *args], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self.log.write(line + "\n")
            self.log.flush()
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern, timeout):
        """The first console line matching pattern, or None (timeout, exit)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def send(self, cmd):
        self.proc.stdin.write(cmd.encode() + b"\n")
        self.proc.stdin.flush()

    def shell(self, cmd, tag, timeout=60):
        """Runs cmd in the guest's shell; its output lines and exit status."""
        start = len(self.seen)
        self.send(f"{cmd}; echo TUX-RUN-{tag}=$?")
        line = self.wait_for(rf"^TUX-RUN-{tag}=\d+", timeout)
        if line is None:
            return None, self.seen[start:]
        return int(line.split("=")[1]), self.seen[start:]

    def poweroff(self, timeout=60):
        try:
            self.send("poweroff -f")
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout=timeout)
            return rc == 0
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        finally:
            self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def walk_through(res, work):
    try:
        blocks = doc_blocks(DOC)
        ok = "rust" in blocks and blocks.get("toml", "").startswith("[dependencies]\n")
        res.add("doc-code", ok, f"code blocks found: {sorted(blocks)}")
    except (OSError, ValueError) as e:
        res.add("doc-code", False, str(e))
        return None
    if not ok:
        return None
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    crate = os.path.join(work, "first-module")
    r = subprocess.run(["cargo", "new", "--vcs", "none", "first-module"], cwd=work,
                       capture_output=True, text=True)
    if not res.add("cargo-new", r.returncode == 0, r.stderr[-500:]):
        return None
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), crate)
    manifest = os.path.join(crate, "Cargo.toml")
    text = open(manifest).read()
    # cargo new ends the manifest with an empty [dependencies] table: the
    # document's block takes its place.
    text = text.replace("[dependencies]\n", "", 1).rstrip("\n") + "\n\n"
    open(manifest, "w").write(text + blocks["toml"].replace("$TUX", ROOT))
    open(os.path.join(crate, "src", "main.rs"), "w").write(blocks["rust"])
    r = subprocess.run(["cargo", "build"], cwd=crate, capture_output=True, text=True)
    if not res.add("cargo-build", r.returncode == 0, r.stderr[-1500:]):
        return None
    module = os.path.join(crate, "target", "debug", "first-module")
    c_module = os.path.join(work, "hello-mine")
    r = subprocess.run(["cc", "-O2", "-I", os.path.join(ROOT, "syscall-abi", "include", "uapi"),
                        "-o", c_module, C_EXAMPLE], capture_output=True, text=True)
    if not res.add("cc-c-module", r.returncode == 0, r.stderr[-1500:]):
        return None
    return module, c_module


def booted(res, guest, boot, timeout):
    """Waits for the guest's banner to end."""
    ready = guest.wait_for(r"^tux guest: ready", timeout)
    return res.add(f"{boot}/ready", ready is not None,
                   "no 'tux guest: ready' (last lines: " + " | ".join(guest.seen[-8:]) + ")")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(os.environ.get("TUX_CACHE", os.path.expanduser("~/.cache/tux")),
                                                   "first-module"))
    ap.add_argument("--boot-timeout", type=int, default=900,
                    help="seconds for make run to build what it needs and boot to 'ready'")
    ap.add_argument("--logs", default=None, help="directory for the consoles")
    args = ap.parse_args()
    logs = args.logs or args.work
    res = Results()
    built = walk_through(res, args.work)
    if built:
        module, c_module = built
        os.makedirs(logs, exist_ok=True)
        env = dict(os.environ)
        for k in ("APPEND", "DOCROOT", "TUX_CONFIG", "MODULES"):
            env.pop(k, None)
        # For trying the checks out (APPEND=loglevel=7 must fail boot1/quiet);
        # CI never sets it.
        if os.environ.get("TUX_RUN_TEST_APPEND"):
            env["APPEND"] = os.environ["TUX_RUN_TEST_APPEND"]
        # Boot 1: the default configuration and the user's two programs.
        port = free_port()
        env["PORT"] = str(port)
        guest = Guest([f"MODULES={module} {c_module}"], env, os.path.join(logs, "run-boot1.log"))
        try:
            if booted(res, guest, "boot1", args.boot_timeout):
                before = guest.seen[:]
                # The kernel's log, not the console: KUnit's lines are
                # informational, which "quiet" keeps off the console anyway.
                rc, out = guest.shell("dmesg | grep -c 'KTAP version'", "KTAP")
                res.add("boot1/no-kunit", rc is not None and "0" in out,
                        f"KUnit ran at boot (dmesg lines 'KTAP version': {out[-2:]})")
                # The kernel's own lines on the console (quiet: warnings and
                # worse only); the banner's dmesg excerpt is indented.
                kmsgs = [x for x in before if re.match(r"^\[\s*\d+\.\d+\]", x)]
                res.add("boot1/quiet", len(kmsgs) < 20,
                        f"{len(kmsgs)} kernel lines on the console before the banner: {kmsgs[:3]}")
                index = open(os.path.join(ROOT, "tools", "guest", "www", "index.html"), "rb").read()
                st, body = get(port, "/")
                res.add("boot1/static", st == 200 and body == index, f"GET /: {st} {body[:120]!r}")
                st, body = get(port, "/hello")
                res.add("boot1/daemon-hello", st == 200 and body == b"Hello from a tux user module\n",
                        f"GET /hello: {st} {body[:120]!r}")
                st, body = get(port, "/api/stats")
                try:
                    ok = st == 200 and json.loads(body)["path"] == "/api/stats"
                except (ValueError, KeyError, TypeError):
                    ok = False
                res.add("boot1/daemon-json", ok, f"GET /api/stats: {st} {body[:120]!r}")
                st, body = get(port, "/cgi-bin/hello.sh?name=walker")
                res.add("boot1/cgi", st == 200 and body.startswith(b"Hello walker from a CGI program")
                        and b"uid 65534" in body, f"GET /cgi-bin/hello.sh: {st} {body[:160]!r}")
                st, body = get(port, "/app/hi")
                res.add("boot1/first-module", st == 200 and body == b"Hello from my first module, at /app/hi\n",
                        f"GET /app/hi: {st} {body[:160]!r}")
                st, body = get(port, "/hello-c")
                res.add("boot1/c-module", st == 200 and body == b"Hello from a tux user module in C\n",
                        f"GET /hello-c: {st} {body[:160]!r}")
                rc, out = guest.shell("tux status", "STATUS")
                res.add("boot1/tux-status", rc == 0 and any(x.startswith("running: ") for x in out),
                        f"tux status: {rc} {out[-4:]}")
                rc, out = guest.shell("tux stats", "STATS")
                res.add("boot1/tux-stats", rc == 0 and any(re.match(r"^requests\b", x) for x in out),
                        f"tux stats: {rc} {out[-6:]}")
            res.add("boot1/poweroff", guest.poweroff(), "QEMU did not end after poweroff -f")
        finally:
            guest.kill()
        # Boot 2: the user's own daemon configuration, on a kernel booted
        # without IPv6: the default listen address [::] falls back to 0.0.0.0.
        config = os.path.join(args.work, "my-tux.toml")
        with open(config, "w") as f:
            f.write('docroot = "/srv/www"\nport = 80\nthreads = 1\n\n'
                    '[[modules]]\nprefix = "/greet"\nkind = "hello"\n')
        port = free_port()
        env["PORT"] = str(port)
        guest = Guest([f"TUX_CONFIG={config}", "APPEND=ipv6.disable=1"], env,
                      os.path.join(logs, "run-boot2.log"))
        try:
            if booted(res, guest, "boot2", args.boot_timeout):
                st, body = get(port, "/greet")
                res.add("boot2/own-config", st == 200 and body == b"Hello from a tux user module\n",
                        f"GET /greet: {st} {body[:120]!r}")
                st, body = get(port, "/hello")
                res.add("boot2/default-route-gone", st == 404, f"GET /hello: {st} {body[:120]!r}")
                rc, out = guest.shell("dmesg | grep 'tux: ' | tail -n 6", "NOV6")
                said = any("no IPv6 in this kernel: listening on IPv4 only" in x for x in out)
                on_v4 = any("serving /srv/www on 0.0.0.0:80" in x for x in out)
                res.add("boot2/no-ipv6-fallback", rc == 0 and said and on_v4,
                        f"dmesg without IPv6: {out[-6:]}")
                # tux status names the address bound, not the listen sysctl's [::].
                rc, out = guest.shell("tux status", "NOV6STATUS")
                res.add("boot2/status-after-fallback",
                        rc == 0 and any("running: 0.0.0.0:80," in x for x in out),
                        f"tux status without IPv6 (exit {rc}): {out[-3:]}")
            res.add("boot2/poweroff", guest.poweroff(), "QEMU did not end after poweroff -f")
        finally:
            guest.kill()
    for name in EXPECTED:
        if name not in res.items:
            print(f"FAIL run/{name} - not run (an earlier step failed)")
    passed = sum(1 for n in EXPECTED if res.items.get(n))
    failed = len(EXPECTED) - passed
    print(f"run: {passed} passed, {failed} failed, {len(EXPECTED)} expected")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
