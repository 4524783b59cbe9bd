#!/usr/bin/env python3
"""Boot a kernel with the make run guest and serve one request from it.

usage: boot_serve.py BZIMAGE INITRD [--timeout S]

The guest (tools/guest/init, run mode) starts TUX from the kernel command
line (tux.docroot=/srv/www); through the forwarded port, GET / must return
the demo site's index.html byte for byte. Exit 0 when it did.
"""

import argparse
import os
import queue
import socket
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tuxvm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kernel")
    ap.add_argument("initrd")
    ap.add_argument("--timeout", type=int, default=600, help="seconds to the guest's banner")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = tuxvm.qemu_argv(args.kernel, args.initrd, "run", [(port, tuxvm.GUEST_HTTP_PORT)],
                           append=f"tuxguest.hostport={port}")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    lines = queue.Queue()

    def read():
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            print(line, flush=True)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    ok = False
    serving = False
    try:
        while True:
            try:
                line = lines.get(timeout=args.timeout)
            except queue.Empty:
                print(f"boot_serve: no 'tux guest: ready' within {args.timeout} s")
                break
            if line is None:
                print("boot_serve: QEMU ended before the guest was ready")
                break
            serving = serving or "tux: serving /srv/www on" in line
            if line.startswith("tux guest: ready"):
                want = open(os.path.join(ROOT, "tools", "guest", "www", "index.html"), "rb").read()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
                    body = r.read()
                    print(f"boot_serve: GET / -> {r.status}, {len(body)} bytes, Server: {r.headers.get('Server')}")
                ok = serving and r.status == 200 and body == want
                if not serving:
                    print("boot_serve: the kernel never said 'tux: serving /srv/www on ...'")
                elif body != want:
                    print("boot_serve: GET / is not tools/guest/www/index.html")
                break
    except OSError as e:
        print(f"boot_serve: {e}")
    finally:
        try:
            proc.stdin.write(b"poweroff -f\n")
            proc.stdin.flush()
            proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
    print("boot_serve: " + ("served" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
