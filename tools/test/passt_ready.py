#!/usr/bin/env python3
"""tuxvm.Passt returns only once QEMU can connect (host layer).

passt binds its UNIX socket while it parses its options and listens on it
only after setting up its sandbox and flow tables: a connect in between is
refused. tuxvm.Passt used to wait for the socket file alone, and one CI run
(2026-12-03) lost the race: ECONNREFUSED. This starts passt ROUNDS times and
connects the moment Passt() returns, as QEMU does; every connect must be
accepted. With the old wait about 1 start in 30 was refused on this machine.

Usage: passt_ready.py [ROUNDS]   (default 200, about 5 s)
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tuxvm  # noqa: E402


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    refused = 0
    for _ in range(rounds):
        net = tuxvm.Passt([])
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(net.sock)
                except ConnectionRefusedError:
                    refused += 1
        finally:
            net.close()
    if refused:
        print(f"FAIL passt-ready: {refused} of {rounds} connects refused right after "
              "Passt() returned: it returned before passt listened")
        return 1
    print(f"PASS passt-ready: {rounds} of {rounds} connects accepted right after Passt() returned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
