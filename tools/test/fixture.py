#!/usr/bin/env python3
"""Build the deterministic document root used by the black-box HTTP suite.

    python3 tools/test/fixture.py DIR [--manifest FILE] [--seed N] [--no-big]

or, from Python:

    import fixture
    manifest = fixture.build(root, seed=fixture.DEFAULT_SEED, big=True)

Everything is a function of the seed: file contents come from
random.Random(<seed>:<name>).randbytes, mtimes are fixed constants, modes are
set explicitly (independent of the umask). DIR must not exist or be empty.

The manifest (JSON) is what the suite consumes:

    {"seed": 1, "big": true,
     "files": {"<relpath>": {"type": "file", "size": N, "sha256": "...",
                             "mode": "0644", "mtime": T,
                             "data_b64": "..."   # only for files <= 64 KiB
                            },
               "<relpath>": {"type": "symlink", "target": "...", "mode": ...},
               "<relpath>": {"type": "fifo", "mode": "0644"},
               "<relpath>": {"type": "dir", "mode": "0755"}}}

Relative paths use "/" and are the decoded names (e.g. "ü.txt"); the suite
percent-encodes them itself.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import zlib

DEFAULT_SEED = 1
# Fixed mtimes: every file gets MTIME, except the stale .gz which is older.
MTIME = 1_700_000_000          # 2023-11-14T22:13:20Z
STALE_GZ_MTIME = MTIME - 86400 * 30
INLINE_MAX = 64 * 1024         # files up to this size are embedded in the manifest

KiB = 1024
MiB = 1024 * KiB

# name -> size; "64m.bin" only with big=True.
BIN_SIZES = {
    "0.bin": 0,
    "1.bin": 1,
    "1k.bin": 1 * KiB,
    "16k.bin": 16 * KiB,
    "1m.bin": 1 * MiB,
    "16m.bin": 16 * MiB,
    "64m.bin": 64 * MiB,
}
BIG = {"64m.bin"}


def _rand(seed, name, n):
    return random.Random(f"{seed}:{name}").randbytes(n)


def _png_1x1():
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00", 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def _gzip(data):
    buf = io.BytesIO()
    # mtime=0 and no file name: byte-identical output across runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def _html(title, body):
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head>\n<body>\n{body}\n</body></html>\n").encode()


def _text_files(seed):
    """Small named files: relpath -> bytes (order matters only for readability)."""
    r = random.Random(f"{seed}:text")
    lorem = " ".join(r.choice(["alpha", "beta", "gamma", "delta", "tux", "kernel",
                               "http", "static", "file", "server"]) for _ in range(400))
    page = _html("gzip page", "<p>" + lorem + "</p>\n" * 8)
    stale = _html("stale page", "<p>stale " + lorem[:2000] + "</p>")
    root_index = _html("tux test root", f"<h1>root index</h1><p>seed {seed}</p>")
    return {
        "index.html": root_index,
        "dir/index.html": _html("dir index", f"<h1>dir index</h1><p>seed {seed}</p>"),
        "noindex/file.txt": b"a file in a directory without index\n",
        "plain.txt": f"plain text, seed {seed}\n".encode(),
        "style.css": b"body { color: #222; background: #fff; }\nh1 { font-size: 2em; }\n",
        "script.js": b"\"use strict\";\nfunction hello() { return 42; }\n",
        "data.json": json.dumps({"seed": seed, "ok": True, "list": [1, 2, 3]}).encode() + b"\n",
        "image.png": _png_1x1(),
        "image.svg": (b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\">"
                      b"<rect width=\"1\" height=\"1\"/></svg>\n"),
        "with space.txt": b"file name with a space\n",
        "\u00fc.txt": "file name with u-umlaut \u00fc\n".encode(),
        "private.txt": b"this file is mode 0600 and must not be served\n",
        "gz/page.html": page,
        "gz/page.html.gz": _gzip(page),
        "gz/stale.html": stale,
        # A .gz whose content differs from the page, so serving it is visible.
        "gz/stale.html.gz": _gzip(stale.replace(b"stale ", b"STALE-GZ ")),
        "vhosts/a.example/index.html": _html("vhost a", "<h1>virtual host a.example</h1>"),
        "vhosts/b.example/index.html": _html("vhost b", "<h1>virtual host b.example</h1>"),
        # An IPv6 literal's vhost: the address as RFC 5952 writes it.
        "vhosts/[2001:db8::1]/index.html": _html("vhost v6", "<h1>virtual host [2001:db8::1]</h1>"),
        # TUX's default virtual host (requests without a usable Host, such as
        # the suite's liveness checks by IP): the same page as the root.
        "vhosts/default/index.html": root_index,
        # The suite's liveness checks send "Host: localhost".
        "vhosts/localhost/index.html": root_index,
    }


MODES = {"private.txt": 0o600}
MTIMES = {"gz/stale.html.gz": STALE_GZ_MTIME}
SYMLINKS = {
    "escape": "/etc/passwd",
    "escape_rel": "../../../../../../../../etc/passwd",
    "inside_link": "index.html",
    # Links into the kernel's pseudo-filesystems (hostile group).
    "proc_link": "/proc/version",
    "proc_dir": "/proc",
    "sys_dir": "/sys",
    "proc_rel": "../../../../../../proc/self/environ",
}
FIFOS = ["fifo"]


def build(root, seed=DEFAULT_SEED, big=True, manifest_path=None):
    """Create the document root in `root` and return the manifest dict.

    If manifest_path is given the manifest is also written there as JSON.
    """
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    if os.listdir(root):
        raise SystemExit(f"fixture: {root} is not empty")
    os.chmod(root, 0o755)
    files = {}

    def add_file(rel, data):
        path = os.path.join(root, rel)
        d = os.path.dirname(rel)
        while d:
            files.setdefault(d, {"type": "dir", "mode": "0755"})
            d = os.path.dirname(d)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        mode = MODES.get(rel, 0o644)
        os.chmod(path, mode)
        mtime = MTIMES.get(rel, MTIME)
        os.utime(path, (mtime, mtime))
        ent = {"type": "file", "size": len(data),
               "sha256": hashlib.sha256(data).hexdigest(),
               "mode": f"{mode:04o}", "mtime": mtime}
        if len(data) <= INLINE_MAX:
            ent["data_b64"] = base64.b64encode(data).decode()
        files[rel] = ent

    for name, size in BIN_SIZES.items():
        if name in BIG and not big:
            continue
        add_file(name, _rand(seed, name, size))
    for rel, data in _text_files(seed).items():
        add_file(rel, data)
    for rel, target in SYMLINKS.items():
        os.symlink(target, os.path.join(root, rel))
        files[rel] = {"type": "symlink", "target": target, "mode": "0777"}
    for rel in FIFOS:
        os.mkfifo(os.path.join(root, rel), 0o644)
        os.chmod(os.path.join(root, rel), 0o644)
        files[rel] = {"type": "fifo", "mode": "0644"}
    # Directories: fixed mode and mtime, deepest first so parents keep theirs.
    for rel in sorted((k for k, v in files.items() if v["type"] == "dir"),
                      key=lambda p: -p.count("/")):
        p = os.path.join(root, rel)
        os.chmod(p, 0o755)
        os.utime(p, (MTIME, MTIME))
    os.utime(root, (MTIME, MTIME))

    manifest = {"seed": seed, "big": big,
                "files": {k: files[k] for k in sorted(files)}}
    if manifest_path:
        with open(manifest_path, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", help="directory to create (must not exist or be empty)")
    ap.add_argument("--manifest", help="write the manifest here (default: stdout)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--big", dest="big", action="store_true", default=True,
                    help="include the 64 MiB file (default)")
    ap.add_argument("--no-big", dest="big", action="store_false",
                    help="omit the 64 MiB file")
    a = ap.parse_args(argv)
    m = build(a.root, seed=a.seed, big=a.big, manifest_path=a.manifest)
    if not a.manifest:
        json.dump(m, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
