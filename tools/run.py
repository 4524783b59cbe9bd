#!/usr/bin/env python3
"""make run: boot the TUX kernel in QEMU with the serial console on this
terminal and the guest's HTTP port forwarded to 127.0.0.1:PORT."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tuxvm  # noqa: E402


def run_cmdline(port):
    """The kernel command line of make run: no KUnit suites at boot (they
    belong to make test), only warnings and worse on the console (dmesg has
    the rest), and the host port for the guest's banner. APPEND comes last,
    so APPEND=loglevel=7 brings the messages back."""
    return " ".join(["kunit.enable=0", "quiet", f"tuxguest.hostport={port}",
                     os.environ.get("APPEND", "")]).strip()


def main():
    kernel, initrd = sys.argv[1], sys.argv[2]
    port = int(os.environ.get("PORT") or 8080)
    smp = int(os.environ.get("SMP") or 2)
    mem = os.environ.get("MEM") or "1024M"
    accel = tuxvm.choose_accel(kernel, initrd)
    forwards = [(port, tuxvm.GUEST_HTTP_PORT)]
    net = tuxvm.start_net(forwards)
    argv = tuxvm.qemu_argv(kernel, initrd, "run", forwards,
                           accel=accel, smp=smp, mem=mem,
                           append=run_cmdline(port), interactive=True, net=net)
    tuxvm.log(f"booting {kernel} under {accel.upper()} ({smp} vCPUs, {mem})")
    tuxvm.log(f"guest port {tuxvm.GUEST_HTTP_PORT} is forwarded to http://127.0.0.1:{port}/")
    tuxvm.log("serial console follows; 'poweroff -f' in the guest or Ctrl-A X ends QEMU")
    # QEMU runs as a child, not in our place, so that passt can be stopped
    # after it. QEMU has the terminal; a signal that would end this process
    # is passed to QEMU (which shuts down on it), and we wait for QEMU.
    try:
        qemu = subprocess.Popen(argv)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, _: qemu.send_signal(signum))
        rc = qemu.wait()
    finally:
        if net:
            net.close()
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
