"""QEMU command lines for the tux guest, shared by `make run` and the tests.

Acceleration: TCG by default. On the machines this project is developed on,
/dev/kvm belongs to a nested PVM hypervisor that aborts or hangs ordinary
guests, so KVM is opt-in (ACCEL=kvm) or probed with a bounded boot
(ACCEL=auto), never assumed.
"""

import atexit
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

GUEST_HTTP_PORT = 80
# The addressing of QEMU's user networking, which tools/guest/init sets up
# statically: passt is given the same. A second NIC (eth1) is on 10.0.3.0/24.
GUEST_ADDR, GUEST_PREFIX, GATEWAY = "10.0.2.15", 24, "10.0.2.2"
GUEST_ADDR2, GATEWAY2 = "10.0.3.15", "10.0.3.2"
# eth1's IPv6 (passt forwards the host's [::1] to it; host clients appear to
# come from the gateway). A unique local prefix, so nothing routes it.
GUEST_ADDR6_2, GATEWAY6_2 = "fd00:3::15", "fd00:3::2"


def pins():
    """tools/pins.env as a dict (KEY=VALUE lines)."""
    out = {}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pins.env")) as f:
        for line in f:
            key, eq, value = line.strip().partition("=")
            if eq and not key.startswith("#"):
                out[key] = value
    return out


def passt_binary():
    """The passt that make deps builds (tools/deps.sh: install_passt), or None.

    Never the system's: Debian 12's passt loses its framing on a loaded host
    and leaves the guest's NIC dead."""
    p = pins()
    cache = os.environ.get("TUX_CACHE") or os.path.expanduser("~/.cache/tux")
    path = os.path.join(cache, f"passt-{p['PASST_VERSION']}-{p['PASST_DEBIAN']}", "passt")
    return path if os.access(path, os.X_OK) else None


def log(msg):
    print(f"\033[1m[tux]\033[0m {msg}", file=sys.stderr, flush=True)


def qemu_argv(kernel, initrd, mode, forwards, accel="tcg", smp=2, mem="1024M",
              append="", interactive=False, net=None, net2=None):
    """Build the argv of a headless guest with its serial console on stdio.

    forwards: list of (host_port, guest_port) TCP forwards on 127.0.0.1.
    interactive: multiplex QEMU's monitor on the console (Ctrl-A X quits).
    net: a Passt (see start_net) that carries the forwards; without it, QEMU's
    user networking does.
    net2: a Passt made with second=True, for a second NIC (eth1 in the guest).
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
            "-netdev", net.netdev if net else f"user,id=n0{fwd}",
            "-device", "virtio-net-pci,netdev=n0,vectors=4",
            *(["-netdev", net2.netdev, "-device", "virtio-net-pci,netdev=n1,vectors=4"]
              if net2 else []),
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


def unix_listening(path):
    """Whether a UNIX socket bound to path listens (/proc/net/unix: flag
    __SO_ACCEPTCON, 0x10000), without connecting to it."""
    try:
        with open("/proc/net/unix") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
                    return True
    except OSError:
        pass
    return False


class Passt:
    """passt (https://passt.top) in the foreground, serving one guest on a UNIX
    socket in a private directory, with the forwards bound to 127.0.0.1.

    QEMU's user networking (slirp) listens for a forward with a backlog of 1:
    a burst of connects from the host loses SYNs to retries, and some get an
    empty reply (issue #18). passt listens with a real backlog and hands each
    connection to the guest's TCP stack at once.

    binary: the passt to run (default: the one make deps built).
    """

    def __init__(self, forwards, second=False, timeout=10, forwards6=(), binary=None):
        self.dir = tempfile.mkdtemp(prefix="tux-passt.")
        self.sock = os.path.join(self.dir, "passt.sock")
        self.log = os.path.join(self.dir, "passt.log")
        self.netdev = (f"stream,id={'n1' if second else 'n0'},server=off,"
                       f"addr.type=unix,addr.path={self.sock}")
        addr, gateway = (GUEST_ADDR2, GATEWAY2) if second else (GUEST_ADDR, GATEWAY)
        runas = []
        if os.geteuid() == 0:
            # passt will not run as root: it binds its socket (in this
            # root-only directory) and then becomes nobody.
            nobody = pwd.getpwnam("nobody")
            runas = ["--runas", f"{nobody.pw_uid}:{nobody.pw_gid}"]
        # -1 (one-off): passt exits when QEMU closes the socket, so once QEMU
        # has connected, passt cannot outlive it even if this process is
        # killed. The gateway is also where host connections seem to come
        # from (passt maps the host's loopback to it), as with slirp: tests
        # expect 10.0.2.2.
        binary = binary or passt_binary()
        if binary is None:
            raise OSError("passt is not built (make deps)")
        argv = [binary, "-f", "-1", *runas, "-s", self.sock,
                "-a", addr, "-n", str(GUEST_PREFIX), "-g", gateway]
        if second:
            argv += ["-a", GUEST_ADDR6_2, "-g", GATEWAY6_2]
        for host_port, guest_port in forwards:
            argv += ["-t", f"127.0.0.1/{host_port}:{guest_port}"]
        # forwards6: from the host's [::1] (second NIC only: eth1 has the
        # static IPv6 address above).
        for host_port, guest_port in forwards6:
            argv += ["-t", f"::1/{host_port}:{guest_port}"]
        # Its messages go to a file, not to make run's console (passt's own
        # --log-file was refused that directory: "Permission denied"). A
        # session of its own keeps a Ctrl-C on the terminal from stopping
        # passt before QEMU: the caller closes it after QEMU, and atexit if
        # the caller fails before QEMU could connect.
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.close)
        # passt says it bound the socket even when it could not create it,
        # and it binds the socket (conf()) well before it listens on it
        # (tap_backend_init()): between the two a connect is refused (CI,
        # 2026-12-03). Only a listening socket means QEMU can connect; a
        # probing connect would be taken for QEMU's, so look it up instead.
        deadline = time.monotonic() + timeout
        while not unix_listening(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = self.failure()
                self.close()
                raise OSError(why)
            time.sleep(0.02)

    def failure(self):
        rc = self.proc.poll()
        with open(self.log, errors="replace") as f:
            lines = [line.strip() for line in f
                     if line.strip() and "to syslog" not in line]
        state = f"exited with {rc}" if rc is not None else "made no socket in time"
        return f"passt {state}: {lines[-1] if lines else 'no output'}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_net(forwards, second=False, forwards6=()):
    """NET=passt, user or auto (default): the guest's host networking.

    auto takes passt if it is installed and starts, else QEMU's user
    networking, and says which and why. Returns a Passt (close it after
    QEMU has exited) or None for user networking (pass it to qemu_argv).
    second: the Passt is for a second NIC (qemu_argv's net2)."""
    choice = os.environ.get("NET", "auto") or "auto"
    if choice not in ("passt", "user", "auto"):
        raise SystemExit(f"NET must be passt, user or auto, not {choice!r}")
    what = "second NIC" if second else "network"
    if choice == "user":
        log(f"{what}: QEMU user networking (NET=user)")
        return None
    if passt_binary() is None:
        if choice == "passt":
            raise SystemExit("NET=passt: passt is not built (make deps)")
        log(f"{what}: QEMU user networking: passt is not built (make deps)")
        return None
    try:
        net = Passt(forwards, second, forwards6=forwards6)
    except OSError as e:
        if choice == "passt":
            raise SystemExit(f"NET=passt: {e}")
        log(f"{what}: QEMU user networking: {e}")
        return None
    log(f"{what}: passt (NET={choice}{': it is installed and started' if choice == 'auto' else ''})")
    return net
