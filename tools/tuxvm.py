"""QEMU command lines for the tux guest, shared by `make run` and the tests.

Acceleration: TCG by default. On the machines this project is developed on,
/dev/kvm belongs to a nested PVM hypervisor that aborts or hangs ordinary
guests, so KVM is opt-in (ACCEL=kvm) or probed with a bounded boot
(ACCEL=auto), never assumed.
"""

import os
import subprocess
import sys

GUEST_HTTP_PORT = 80


def log(msg):
    print(f"\033[1m[tux]\033[0m {msg}", file=sys.stderr, flush=True)


def qemu_argv(kernel, initrd, mode, forwards, accel="tcg", smp=2, mem="1024M",
              append="", interactive=False):
    """Build the argv of a headless guest with its serial console on stdio.

    forwards: list of (host_port, guest_port) TCP forwards on 127.0.0.1.
    interactive: multiplex QEMU's monitor on the console (Ctrl-A X quits).
    """
    if accel == "kvm":
        accel_args = ["-accel", "kvm", "-cpu", "host"]
    else:
        accel_args = ["-accel", "tcg,thread=multi", "-cpu", "max"]
    fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in forwards)
    # tux.docroot= on the command line starts the in-kernel server at boot.
    #
    # no5lvl: "-cpu max" offers LA57, so the kernel runs with 5-level paging
    # and its direct map at 0xff11000000000000. identify_cpu() clears
    # boot_cpu_data's capabilities before reading them again, and until
    # alternatives are patched pgtable_l5_enabled() reads that array: an
    # interrupt in the window sees a 4-level address space, and KASAN calls
    # the irq_desc lock a wild access and panics the debug kernel at 0.003 s
    # (seen once in CI, 2026-12-03). 4-level paging has no such window.
    cmdline = (f"console=ttyS0 panic=-1 oops=panic no5lvl tux.mode={mode} "
               f"tux.docroot=/srv/www tux.port={GUEST_HTTP_PORT} {append}").strip()
    return ["qemu-system-x86_64", *accel_args, "-smp", str(smp), "-m", mem,
            "-nodefaults", "-no-reboot", "-display", "none",
            "-serial", "mon:stdio" if interactive else "stdio",
            *([] if interactive else ["-monitor", "none"]),
            "-kernel", kernel, "-initrd", initrd,
            # MSI-X vectors for the NIC: "-nic user,model=virtio-net-pci" gives it
            # none, and its legacy interrupt needs ACPI _PRT routing, which a slow
            # (KASAN under TCG) guest times out on, leaving the NIC deaf.
            "-netdev", f"user,id=n0{fwd}", "-device", "virtio-net-pci,netdev=n0,vectors=4",
            "-append", cmdline]


def kvm_works(kernel, initrd, timeout=20):
    """Boot the guest in probe mode under KVM; True if it powered off cleanly."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    argv = qemu_argv(kernel, initrd, "probe", [], accel="kvm", smp=1, mem="256M")
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return False
    return b"TUX-PROBE-OK" in out


def choose_accel(kernel, initrd):
    """ACCEL=tcg (default), kvm, or auto (KVM if a bounded probe boot works)."""
    accel = os.environ.get("ACCEL", "tcg") or "tcg"
    if accel == "auto":
        log("ACCEL=auto: probing KVM with a 20 s bounded boot")
        accel = "kvm" if kvm_works(kernel, initrd) else "tcg"
        log(f"using {accel.upper()}")
    if accel not in ("tcg", "kvm"):
        raise SystemExit(f"ACCEL must be tcg, kvm or auto, not {accel!r}")
    return accel
