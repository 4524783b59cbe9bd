#!/usr/bin/env python3
"""The passt that make deps builds keeps QEMU's frames in step (host layer).

QEMU's -netdev stream sends passt each frame as a 4-byte big-endian length
and the frame. A loaded host can leave a read ending inside a length:
Debian 12's passt (0.0~git20230309) then dropped those bytes, read every
later length from the middle of a frame, and the guest's NIC was dead for
the rest of the run (CI, 2026-12-03). This plays QEMU on passt's socket:
three ARP requests for the gateway, the second with its length split across
two writes half a second apart. All three must be answered.

Usage: passt_framing.py [PASST]   (default: the one tools/tuxvm.py runs)
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tuxvm  # noqa: E402

GUEST_MAC = bytes.fromhex("525400123456")


def arp_request(sender_ip, target_ip):
    eth = b"\xff" * 6 + GUEST_MAC + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + GUEST_MAC + socket.inet_aton(sender_ip)
    arp += b"\x00" * 6 + socket.inet_aton(target_ip)
    return eth + arp + b"\x00" * 18  # padded to the Ethernet minimum


def arp_replies(stream):
    """Count the ARP replies among the length-prefixed frames of stream."""
    n = 0
    while len(stream) >= 4:
        (length,) = struct.unpack("!I", stream[:4])
        frame, stream = stream[4:4 + length], stream[4 + length:]
        if len(frame) >= 22 and frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x02":
            n += 1
    return n


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else None
    net = tuxvm.Passt([], binary=binary)  # guest 10.0.2.15, gateway 10.0.2.2
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(net.sock)
        req = arp_request(tuxvm.GUEST_ADDR, tuxvm.GATEWAY)
        framed = struct.pack("!I", len(req)) + req
        s.sendall(framed)
        time.sleep(0.5)
        s.sendall(framed[:2])  # passt reads these two bytes alone
        time.sleep(0.5)
        s.sendall(framed[2:] + framed)
        got, deadline = b"", time.monotonic() + 5
        s.settimeout(0.2)
        while arp_replies(got) < 3 and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            got += chunk
        s.close()
    finally:
        net.close()
    n = arp_replies(got)
    if n != 3:
        print(f"FAIL passt-framing: {n} of 3 ARP requests answered (the second one's "
              "length came in two writes): passt lost its framing")
        return 1
    print("PASS passt-framing: 3 of 3 ARP requests answered, one with its length split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
