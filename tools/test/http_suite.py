#!/usr/bin/env python3
"""Black-box HTTP/1.1 test suite for a static file server (TUX, or nginx as reference).

    python3 tools/test/http_suite.py --port N --manifest FILE \
        [--host 127.0.0.1] [--groups get,range,...] [--server-profile tux|nginx]

API:
    run(host, port, manifest, groups=None, profile="tux", **params)
        -> list[(name, passed, detail)]

`manifest` is the dict written by fixture.py (tools/test/fixture.py); the
server's document root must be that fixture directory. groups=None runs every
group in GROUPS (including `vhost`, which needs the server configured for
virtual hosting: pass an explicit set to leave it out).

Everything talks raw HTTP over sockets (our own small response reader), so
nothing is normalised behind our back; every socket has a timeout and every
test is independent (own connections). Hostile tests end with a "still alive"
GET. Tests marked "record" accept several behaviours and put the observed one
in the detail.

Profile differences (nginx vs tux) are all in PROFILES below, each commented.
"""

import argparse
import base64
import gzip
import hashlib
import json
import random
import re
import select
import selectors
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from email.utils import parsedate_to_datetime

GROUPS = ["get", "cond", "range", "redirect", "errors", "traversal", "keepalive",
          "pipeline", "concurrency", "gzip", "limits", "hostile", "slowloris", "garbage",
          "vhost"]

# Expectations that legitimately differ between the reference (nginx 1.22 as
# configured by nginx_reference.sh) and TUX. Everything not listed here is the
# same for both profiles.
PROFILES = {
    "tux": {
        # Seconds the server may take to drop a connection whose request head
        # never completes (TUX's header timeout, default 30 s).
        "header_timeout": 30.0,
        # gz/stale.html.gz is older than stale.html: TUX compares mtimes and
        # must serve the identity body.
        "stale_gz_statuses": {"identity"},
        # HTTP/1.0 + "Connection: keep-alive": optional per RFC 9112 C.2.2.
        # TUX may keep the connection or close it, but must be consistent
        # (never advertise keep-alive and then close).
        "http10_keepalive": {"open", "closed"},
        # 200 small headers: TUX bounds the request head, so 400/431.
        "many_headers_statuses": {400, 431},
        # Content-Length together with Transfer-Encoding: RFC 9112 6.1 says
        # reject; TUX has no body support, 400.
        "cl_te_statuses": {400},
        # obs-fold (RFC 9112 5.2) and whitespace before the colon
        # (RFC 9112 5.1): a server MUST reject with 400.
        "obs_fold_statuses": {400},
        "space_colon_statuses": {400},
        # Range with invalid syntax ("bytes=abc"): ignored, full 200
        # (RFC 9110 14.2: an unparsable Range is treated as absent).
        "invalid_range_statuses": {200},
        # garbage group, valid request line followed by a colon-less junk
        # header line: invalid field line (RFC 9112 5), 400 or close.
        "garbage_header_statuses": {400, "closed"},
        # A request line ended by a bare LF (RFC 9112 2.2 lets a recipient
        # accept it): TUX accepts LF as a line end, as nginx does.
        "bare_lf_statuses": {200},
        # CONNECT host:port (authority-form): TUX does not proxy.
        "authority_form_statuses": {400, 405, 501},
        # A Host that is not an RFC 3986 authority (userinfo, a broken or
        # zoned IP-literal, a port over 65535, a bad escape): 400.
        "bad_authority_statuses": {400},
        # OPTIONS * (asterisk-form).
        "asterisk_form_statuses": {400, 405, 501},
        # A request with a body in chunked coding: TUX reads no request
        # bodies (GET/HEAD only; others are handed off before their body is
        # read), so it answers 400/501 and closes.
        "chunked_body": "reject",
        # "X-A: a<LF>b<CRLF>": with LF accepted as a line end, "b" is a
        # field line without a colon: 400.
        "lf_in_value_statuses": {400},
        # "GET /path" with no version (HTTP/0.9): 400 or close.
        "http09": {"400", "closed"},
        # Responses one pipelining connection gets before the server may
        # close it (TUX has no per-connection request cap).
        "pipeline_flood_min": None,
    },
    "nginx": {
        # client_header_timeout 10s in nginx_reference.sh.
        "header_timeout": 10.0,
        # nginx's gzip_static does not compare mtimes: it serves the older
        # .gz. Accept both, record which.
        "stale_gz_statuses": {"identity", "gzip"},
        # nginx keeps HTTP/1.0 keep-alive connections open.
        "http10_keepalive": {"open"},
        # nginx has no header-count limit, only a buffer-size one: the 200
        # small headers fit and it answers 200. Record.
        "many_headers_statuses": {200, 400, 431},
        # nginx answers 400 ("client sent Content-Length and
        # Transfer-Encoding"); some versions 501 for unknown codings.
        "cl_te_statuses": {400, 501},
        "obs_fold_statuses": {400},
        "space_colon_statuses": {400},
        # nginx answers 416 to a syntactically invalid byte range.
        "invalid_range_statuses": {200, 416},
        # nginx (ignore_invalid_headers on) silently drops a junk header
        # line and serves the request: 200 is accepted for nginx only.
        "garbage_header_statuses": {200, 400, "closed"},
        "bare_lf_statuses": {200},
        "authority_form_statuses": {400, 405, 501},
        # nginx 1.22 takes some of them as names (recorded only).
        "bad_authority_statuses": {200, 400},
        "asterisk_form_statuses": {400, 405, 501},
        # nginx parses chunked request bodies (then serves the GET).
        "chunked_body": "parse",
        # nginx ignores the colon-less line ("ignore_invalid_headers on").
        "lf_in_value_statuses": {200, 400},
        # nginx still speaks HTTP/0.9: a bare body.
        "http09": {"400", "closed", "http/0.9"},
        # keepalive_requests 1000 (the nginx 1.22 default).
        "pipeline_flood_min": 1000,
    },
}

DEFAULT_TIMEOUT = 10.0
IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d{2}:\d{2}:\d{2} GMT$")
PASSWD_MARK = b"root:x:0:0"


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


# --------------------------------------------------------------------------
# Raw HTTP client
# --------------------------------------------------------------------------

class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []      # [(name_lower, value)] in order
        self.body = b""        # kept body (maybe truncated if keep_body limited)
        self.body_len = 0
        self.sha256 = ""
        self.raw_head = b""

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def tokens(self, name):
        out = set()
        for v in self.get_all(name):
            out |= {t.strip().lower() for t in v.split(",") if t.strip()}
        return out

    def __repr__(self):
        return f"<{self.status} {self.reason!r} len={self.body_len}>"


class Closed(Exception):
    """The peer closed the connection before a (complete) response."""


class Conn:
    """One TCP connection with a buffered reader that understands HTTP/1.x responses.

    With `tls` (an ssl.SSLContext), the connection is HTTPS: the handshake is
    done here, with SNI `sni`. A close without a close_notify is taken as end
    of stream, as a TCP FIN is: HTTP/1.1 framing makes that safe, and
    https/close-notify checks that TUX sends one."""

    def __init__(self, host, port, timeout=DEFAULT_TIMEOUT, tls=None, sni=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=sni)
        self.buf = bytearray()
        self.out = bytearray()
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def half_close(self):
        """The client's FIN (shutdown(SHUT_WR)). Over TLS, too, a TCP
        half-close under the session: SSLSocket.shutdown() would drop the
        session and leave the records to be read raw."""
        socket.socket.shutdown(self.sock, socket.SHUT_WR)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def queue(self, data):
        """Bytes to send while reading: _fill() writes them as the socket takes
        them, between reads, in this one thread. (Two threads, one writing and
        one reading, cannot share an SSLSocket: OpenSSL's SSL object is not
        safe to use from two threads at once.)"""
        self.out += data

    def _fill_sending(self, n):
        """_fill() while queued bytes remain: waits until the socket is readable
        or writable, sends what it takes, returns when bytes were read (or the
        peer closed)."""
        tls = isinstance(self.sock, ssl.SSLSocket)
        timeout = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            while self.out:
                readable = tls and self.sock.pending() > 0
                if not readable:
                    r, w, _ = select.select([self.sock], [self.sock], [], timeout)
                    if not r and not w:
                        raise socket.timeout("no progress while sending queued bytes")
                    readable = bool(r)
                    if w:
                        try:
                            del self.out[:self.sock.send(self.out[:1 << 14])]
                        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                            pass
                if readable:
                    try:
                        return self.sock.recv(n)
                    except (BlockingIOError, ssl.SSLWantReadError):
                        continue
            return None
        finally:
            self.sock.settimeout(timeout)

    def _fill(self, n=65536):
        if self.eof:
            return False
        try:
            chunk = self._fill_sending(n) if self.out else None
            if chunk is None:
                chunk = self.sock.recv(n)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _readline(self, limit=1 << 20):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise TestFailure("response line too long")
            if not self._fill():
                raise Closed("connection closed while reading a line"
                             + (f" (partial {bytes(self.buf[:60])!r})" if self.buf else ""))

    def _read_exact_into(self, n, sink):
        while n > 0:
            if not self.buf and not self._fill(min(1 << 20, max(n, 65536))):
                raise TestFailure(f"connection closed with {n} body bytes missing")
            take = min(n, len(self.buf))
            sink(bytes(self.buf[:take]))
            del self.buf[:take]
            n -= take

    def read_response(self, method="GET", keep_body=1 << 20):
        """Read one response. keep_body: max body bytes kept in .body (all hashed)."""
        r = Response()
        while True:
            line = self._readline()
            head = [line]
            m = re.match(rb"^(HTTP/\d\.\d) (\d{3})(?: (.*))?\r?\n$", line)
            if not m:
                raise TestFailure(f"bad status line {line[:80]!r}")
            r.version = m.group(1).decode()
            r.status = int(m.group(2))
            r.reason = (m.group(3) or b"").decode("latin-1")
            r.headers = []
            while True:
                hl = self._readline()
                head.append(hl)
                if hl in (b"\r\n", b"\n"):
                    break
                k, sep, v = hl.partition(b":")
                if not sep:
                    raise TestFailure(f"bad header line {hl[:80]!r}")
                r.headers.append((k.decode("latin-1").strip().lower(),
                                  v.decode("latin-1").strip()))
            r.raw_head = b"".join(head)
            if 100 <= r.status < 200 and r.status != 101:
                continue  # interim response
            break
        h = hashlib.sha256()
        kept = bytearray()

        def sink(b):
            h.update(b)
            r.body_len += len(b)
            if len(kept) < keep_body:
                kept.extend(b[:keep_body - len(kept)])

        te = r.tokens("transfer-encoding")
        if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            pass
        elif "chunked" in te:
            while True:
                size_line = self._readline()
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._readline() not in (b"\r\n", b"\n"):
                        pass
                    break
                self._read_exact_into(size, sink)
                self._readline()
        elif r.get("content-length") is not None:
            cls = set(r.get_all("content-length"))
            check(len(cls) == 1, f"conflicting Content-Length {cls}")
            self._read_exact_into(int(cls.pop()), sink)
        else:
            # close-delimited
            while True:
                if self.buf:
                    sink(bytes(self.buf))
                    self.buf.clear()
                if not self._fill():
                    break
        r.body = bytes(kept)
        r.sha256 = h.hexdigest()
        return r

    def is_closed(self, wait=2.0):
        """True if the peer closes (EOF/RST) within `wait` s with no more data."""
        if self.buf:
            return False
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            d = self.sock.recv(1)
            if d:
                self.buf += d
                return False
            return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return True
        finally:
            self.sock.settimeout(old)


def req(method, path, host="localhost", version="HTTP/1.1", headers=(), body=b""):
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def quote(rel):
    return "/" + urllib.parse.quote(rel, safe="/")


# --------------------------------------------------------------------------
# Suite
# --------------------------------------------------------------------------

class Suite:
    def __init__(self, host, port, manifest, profile="tux", timeout=DEFAULT_TIMEOUT,
                 header_timeout=None, garbage_count=200, many_headers=200,
                 concurrency=500, seed=None, tls=None, sni=None):
        self.host, self.port, self.m = host, port, manifest
        self.tls, self.sni = tls, sni
        self.files = manifest["files"]
        self.profile = profile
        self.p = dict(PROFILES[profile])
        if header_timeout is not None:
            self.p["header_timeout"] = float(header_timeout)
        self.timeout = timeout
        self.garbage_count = garbage_count
        self.many_headers = many_headers
        self.concurrency = concurrency
        self.seed = manifest.get("seed", 1) if seed is None else seed
        self.results = []

    # ---- helpers ---------------------------------------------------------

    def conn(self, timeout=None):
        return Conn(self.host, self.port, timeout or self.timeout, tls=self.tls, sni=self.sni)

    def data(self, rel):
        return base64.b64decode(self.files[rel]["data_b64"])

    def one(self, raw, method="GET", timeout=None, keep_body=1 << 20):
        """Send raw bytes on a fresh connection, read one response."""
        with self.conn(timeout) as c:
            c.send(raw)
            return c.read_response(method, keep_body=keep_body)

    def get(self, path, headers=(), method="GET", version="HTTP/1.1", host="localhost",
            keep_body=1 << 20, timeout=None):
        hdrs = list(headers)
        if not any(k.lower() == "connection" for k, _ in hdrs):
            hdrs.append(("Connection", "close"))
        return self.one(req(method, path, host=host, version=version, headers=hdrs),
                        method=method, timeout=timeout, keep_body=keep_body)

    def expect_file(self, r, rel, status=200):
        ent = self.files[rel]
        check(r.status == status, f"status {r.status} != {status}")
        cl = r.get("content-length")
        check(cl is not None, "no Content-Length")
        check(int(cl) == ent["size"], f"Content-Length {cl} != {ent['size']}")
        check(r.body_len == ent["size"], f"body length {r.body_len} != {ent['size']}")
        check(r.sha256 == ent["sha256"], "body sha256 mismatch")

    def alive(self):
        """Still-alive check: a normal GET answers correctly."""
        try:
            r = self.get("/index.html", timeout=self.timeout)
        except (OSError, TestFailure, Closed) as e:
            raise TestFailure(f"server not alive afterwards: {e}")
        check(r.status == 200 and r.sha256 == self.files["index.html"]["sha256"],
              f"server not alive afterwards: {r.status}")

    def expect_status(self, raw, allowed, method="GET", no_passwd=True, timeout=None,
                      allow_close=False):
        try:
            r = self.one(raw, method=method, timeout=timeout)
        except Closed as e:
            if allow_close:
                self.alive()
                return "closed"
            raise TestFailure(f"closed without response ({e})")
        if no_passwd:
            check(PASSWD_MARK not in r.body and b"root:" not in r.body,
                  "body contains /etc/passwd content!")
        check(r.status in allowed, f"status {r.status} not in {sorted(allowed)}")
        self.alive()
        return r.status

    # ---- runner ----------------------------------------------------------

    def case(self, name, fn, *args):
        t0 = time.monotonic()
        try:
            detail = fn(*args)
            ok = True
            detail = "" if detail is None else str(detail)
        except TestFailure as e:
            ok, detail = False, str(e)
        except Closed as e:
            ok, detail = False, f"connection closed: {e}"
        except socket.timeout:
            ok, detail = False, "timeout"
        except OSError as e:
            ok, detail = False, f"{type(e).__name__}: {e}"
        except Exception as e:  # a bug in the test itself must not stop the suite
            ok, detail = False, f"test error {type(e).__name__}: {e}"
        dt = time.monotonic() - t0
        if dt > 5:
            detail = (detail + " " if detail else "") + f"[{dt:.1f}s]"
        self.results.append((name, ok, detail))
        return ok

    def run(self, groups=None):
        groups = GROUPS if groups is None else [g for g in GROUPS if g in groups]
        for g in groups:
            getattr(self, "g_" + g)()
        return self.results

    # ---- get ------------------------------------------------------------

    CTYPES = {
        "index.html": {"text/html"},
        "style.css": {"text/css"},
        "script.js": {"application/javascript", "text/javascript"},
        "data.json": {"application/json"},
        "image.png": {"image/png"},
        "image.svg": {"image/svg+xml"},
        "plain.txt": {"text/plain"},
        "1k.bin": {"application/octet-stream"},
    }

    def g_get(self):
        bins = sorted((k for k, v in self.files.items()
                       if k.endswith(".bin") and v["type"] == "file"),
                      key=lambda k: self.files[k]["size"])
        for rel in bins:
            self.case(f"get/{rel[:-4]}", self.t_get_bin, rel)
        for rel, types in self.CTYPES.items():
            self.case(f"get/type/{rel}", self.t_ctype, rel, types)
        self.case("get/head/1k", self.t_head, "1k.bin")
        self.case("get/head/index", self.t_head, "index.html")
        self.case("get/date", self.t_date)
        self.case("get/validators", self.t_validators)
        self.case("get/space", self.t_named, "with space.txt")
        self.case("get/utf8", self.t_named, "\u00fc.txt")
        self.case("get/query", self.t_query)
        self.case("get/root-index", self.t_root_index)

    def t_get_bin(self, rel):
        size = self.files[rel]["size"]
        r = self.get("/" + rel, keep_body=0, timeout=max(self.timeout, 30.0))
        self.expect_file(r, rel)
        ct = (r.get("content-type") or "").split(";")[0].strip().lower()
        check(ct == "application/octet-stream", f"Content-Type {ct!r}")
        return f"{size} bytes"

    def t_ctype(self, rel, types):
        r = self.get("/" + rel)
        self.expect_file(r, rel)
        ct = (r.get("content-type") or "").split(";")[0].strip().lower()
        check(ct in types, f"Content-Type {r.get('content-type')!r} not in {sorted(types)}")
        return r.get("content-type")

    def t_head(self, rel):
        with self.conn() as c:
            c.send(req("GET", "/" + rel) + req("HEAD", "/" + rel)
                   + req("GET", "/" + rel, headers=[("Connection", "close")]))
            g = c.read_response("GET")
            h = c.read_response("HEAD")
            g2 = c.read_response("GET")
            rest = c.sock.recv(1) if not c.buf else bytes(c.buf)
        self.expect_file(g, rel)
        self.expect_file(g2, rel)  # proves HEAD sent no body (stream stayed in sync)
        check(h.status == 200, f"HEAD status {h.status}")
        check(rest == b"", f"trailing bytes after responses {rest[:40]!r}")
        for name in ("content-length", "content-type", "etag", "last-modified"):
            check(h.get(name) == g.get(name),
                  f"HEAD {name} {h.get(name)!r} != GET {g.get(name)!r}")

    def t_date(self):
        r = self.get("/index.html")
        d = r.get("date")
        check(d is not None, "no Date header")
        check(IMF_FIXDATE.match(d), f"Date not IMF-fixdate: {d!r}")
        skew = time.time() - parsedate_to_datetime(d).timestamp()
        return f"skew {skew:+.0f}s"

    def t_validators(self):
        r = self.get("/index.html")
        lm, et = r.get("last-modified"), r.get("etag")
        check(lm is not None, "no Last-Modified")
        check(IMF_FIXDATE.match(lm), f"Last-Modified not IMF-fixdate: {lm!r}")
        mt = parsedate_to_datetime(lm).timestamp()
        check(int(mt) == self.files["index.html"]["mtime"],
              f"Last-Modified {lm} != file mtime {self.files['index.html']['mtime']}")
        check(et is not None, "no ETag")
        check(re.match(r'^(W/)?"[\x21\x23-\x7e]*"$', et), f"malformed ETag {et!r}")
        return f"ETag {et}"

    def t_named(self, rel):
        r = self.get(quote(rel))
        self.expect_file(r, rel)

    def t_query(self):
        self.expect_file(self.get("/index.html?x=1&y=%20"), "index.html")

    def t_root_index(self):
        r = self.get("/")
        self.expect_file(r, "index.html")
        ct = (r.get("content-type") or "").split(";")[0].strip().lower()
        check(ct == "text/html", f"Content-Type {ct!r}")

    # ---- cond -----------------------------------------------------------

    def g_cond(self):
        self.case("cond/inm-match", self.t_cond, "inm-match")
        self.case("cond/inm-star", self.t_cond, "inm-star")
        self.case("cond/inm-mismatch", self.t_cond, "inm-mismatch")
        self.case("cond/ims-match", self.t_cond, "ims-match")
        self.case("cond/ims-older", self.t_cond, "ims-older")
        self.case("cond/inm-wins-over-ims", self.t_cond, "inm-wins")

    def t_cond(self, kind):
        rel = "1k.bin"
        base = self.get("/" + rel)
        et, lm = base.get("etag"), base.get("last-modified")
        check(et and lm, "no ETag/Last-Modified to test with")
        older = "Mon, 01 Jan 2001 00:00:00 GMT"
        hdrs, want = {
            "inm-match": ([("If-None-Match", et)], 304),
            "inm-star": ([("If-None-Match", "*")], 304),
            "inm-mismatch": ([("If-None-Match", '"nope-0000"')], 200),
            "ims-match": ([("If-Modified-Since", lm)], 304),
            "ims-older": ([("If-Modified-Since", older)], 200),
            # RFC 9110 13.1.3: IMS is ignored when If-None-Match is present.
            "inm-wins": ([("If-None-Match", '"nope-0000"'), ("If-Modified-Since", lm)], 200),
        }[kind]
        with self.conn() as c:
            # 304 must carry no body: a following request on the same
            # connection must parse cleanly.
            c.send(req("GET", "/" + rel, headers=hdrs)
                   + req("GET", "/index.html", headers=[("Connection", "close")]))
            r = c.read_response("GET")
            nxt = c.read_response("GET")
        if want == 304:
            check(r.status == 304, f"status {r.status} != 304")
            check(r.get("etag") in (None, et), f"304 ETag {r.get('etag')} != {et}")
        else:
            self.expect_file(r, rel)
        self.expect_file(nxt, "index.html")

    # ---- range ----------------------------------------------------------

    def g_range(self):
        rel = "16k.bin"
        n = self.files[rel]["size"]
        self.case("range/first100", self.t_range, rel, "bytes=0-99", 0, 99)
        self.case("range/open", self.t_range, rel, "bytes=100-", 100, n - 1)
        self.case("range/suffix", self.t_range, rel, "bytes=-100", n - 100, n - 1)
        self.case("range/last-byte", self.t_range, rel, f"bytes={n - 1}-", n - 1, n - 1)
        self.case("range/past-end", self.t_range, rel, f"bytes=10-{n * 4}", 10, n - 1)
        self.case("range/unsatisfiable", self.t_range_416, rel)
        self.case("range/invalid", self.t_range_invalid, rel)
        self.case("range/bad-unit", self.t_range_full, rel, "items=0-1")
        self.case("range/multi", self.t_range_multi, rel)
        self.case("range/empty-file", self.t_range_empty)
        self.case("range/head", self.t_range_head, rel)

    def t_range(self, rel, spec, a, b):
        n = self.files[rel]["size"]
        r = self.get("/" + rel, headers=[("Range", spec)])
        check(r.status == 206, f"status {r.status} != 206")
        check(r.get("content-range") == f"bytes {a}-{b}/{n}",
              f"Content-Range {r.get('content-range')!r} != 'bytes {a}-{b}/{n}'")
        check(r.get("content-length") == str(b - a + 1), f"Content-Length {r.get('content-length')}")
        check(r.body == self.data(rel)[a:b + 1], "range bytes differ")

    def t_range_416(self, rel):
        n = self.files[rel]["size"]
        with self.conn() as c:
            c.send(req("GET", "/" + rel, headers=[("Range", f"bytes={n}-")])
                   + req("GET", "/index.html", headers=[("Connection", "close")]))
            r = c.read_response()
            nxt = c.read_response()
        check(r.status == 416, f"status {r.status} != 416")
        check(r.get("content-range") == f"bytes */{n}",
              f"Content-Range {r.get('content-range')!r} != 'bytes */{n}'")
        self.expect_file(nxt, "index.html")

    def t_range_full(self, rel, spec):
        self.expect_file(self.get("/" + rel, headers=[("Range", spec)]), rel)

    def t_range_invalid(self, rel):
        r = self.get("/" + rel, headers=[("Range", "bytes=abc")])
        check(r.status in self.p["invalid_range_statuses"], f"status {r.status}")
        if r.status == 200:
            self.expect_file(r, rel)
        else:
            check(r.get("content-range") == f"bytes */{self.files[rel]['size']}",
                  f"Content-Range {r.get('content-range')}")
        return str(r.status)

    def t_range_multi(self, rel):
        r = self.get("/" + rel, headers=[("Range", "bytes=0-1,5-6")])
        if r.status == 200:
            self.expect_file(r, rel)
            return "200 full body"
        check(r.status == 206, f"status {r.status} not 200/206")
        ct = r.get("content-type") or ""
        m = re.match(r'multipart/byteranges;\s*boundary="?([^";]+)"?', ct)
        check(m, f"206 without multipart/byteranges: {ct!r}")
        check(r.get("content-length") is None or int(r.get("content-length")) == r.body_len,
              "Content-Length mismatch")
        parts = r.body.split(b"--" + m.group(1).encode())
        data = self.data(rel)
        found = []
        for p in parts[1:]:
            if p.startswith(b"--"):
                break
            head, _, body = p.partition(b"\r\n\r\n")
            cr = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head, re.I)
            check(cr, f"part without Content-Range {head[:80]!r}")
            a, b = int(cr.group(1)), int(cr.group(2))
            check(body[:-2] == data[a:b + 1] and body.endswith(b"\r\n"), f"part {a}-{b} bytes differ")
            found.append((a, b))
        check(found == [(0, 1), (5, 6)], f"parts {found}")
        return "206 multipart"

    def t_range_empty(self):
        r = self.get("/0.bin", headers=[("Range", "bytes=0-")])
        check(r.status in (200, 416), f"status {r.status} not 200/416")
        if r.status == 200:
            check(r.body_len == 0 and r.get("content-length") == "0", "non-empty body")
        else:
            check(r.get("content-range") in (None, "bytes */0"), f"Content-Range {r.get('content-range')}")
        return str(r.status)

    def t_range_head(self, rel):
        n = self.files[rel]["size"]
        with self.conn() as c:
            c.send(req("HEAD", "/" + rel, headers=[("Range", "bytes=0-99")])
                   + req("GET", "/index.html", headers=[("Connection", "close")]))
            r = c.read_response("HEAD")
            nxt = c.read_response()
        check(r.status in (200, 206), f"status {r.status}")
        if r.status == 206:
            check(r.get("content-range") == f"bytes 0-99/{n}", f"Content-Range {r.get('content-range')}")
        self.expect_file(nxt, "index.html")
        return str(r.status)

    # ---- redirect -------------------------------------------------------

    def g_redirect(self):
        self.case("redirect/dir", self.t_redirect, "/dir", False)
        self.case("redirect/dir-query", self.t_redirect, "/dir?x=1", True)
        self.case("redirect/dir-slash", lambda: self.expect_file(self.get("/dir/"), "dir/index.html"))
        self.case("redirect/dir-index", lambda: self.expect_file(self.get("/dir/index.html"),
                                                                 "dir/index.html"))
        self.case("redirect/noindex", lambda: str(self.expect_status(
            req("GET", "/noindex/", headers=[("Connection", "close")]), {403, 404})))
        self.case("redirect/noindex-noslash", self.t_noindex_noslash)

    def t_redirect(self, path, query):
        r = self.get(path)
        check(r.status == 301, f"status {r.status} != 301")
        loc = r.get("location")
        check(loc is not None, "no Location")
        u = urllib.parse.urlsplit(loc)
        check(u.path == "/dir/", f"Location {loc!r} path is not /dir/")
        if query:
            check(u.query in ("", "x=1"), f"Location query {u.query!r}")
        check(u.netloc in ("", ) or u.scheme in ("http",), f"Location {loc!r}")
        return f"Location: {loc}"

    def t_noindex_noslash(self):
        r = self.get("/noindex")
        check(r.status in (301, 403, 404), f"status {r.status}")
        if r.status == 301:
            check(urllib.parse.urlsplit(r.get("location") or "").path == "/noindex/",
                  f"Location {r.get('location')}")
        return str(r.status)

    # ---- errors ---------------------------------------------------------

    def g_errors(self):
        cl = [("Connection", "close")]
        self.case("errors/missing", lambda: self.expect_status(
            req("GET", "/no-such-file.html", headers=cl), {404}))
        self.case("errors/missing-dir", lambda: self.expect_status(
            req("GET", "/no-such-dir/x.html", headers=cl), {404}))
        self.case("errors/post", self.t_post)
        self.case("errors/unknown-method", lambda: "status %s" % self.expect_status(
            req("FOO", "/", headers=cl), {400, 405, 501}))
        self.case("errors/http2-line", lambda: "status %s" % self.expect_status(
            req("GET", "/", version="HTTP/2.0", headers=cl), {400, 505}, allow_close=True))
        self.case("errors/http-bad-version", lambda: "status %s" % self.expect_status(
            req("GET", "/", version="HTTP/1.x", headers=cl), {400, 505}, allow_close=True))
        self.case("errors/private", lambda: self.expect_status(
            req("GET", "/private.txt", headers=cl), {403}))
        self.case("errors/fifo", lambda: "status %s" % self.expect_status(
            req("GET", "/fifo", headers=cl), {403, 404}, timeout=5.0))
        self.case("errors/escape", lambda: "status %s" % self.expect_status(
            req("GET", "/escape", headers=cl), {403, 404}))
        self.case("errors/escape_rel", lambda: "status %s" % self.expect_status(
            req("GET", "/escape_rel", headers=cl), {403, 404}))
        self.case("errors/inside_link", self.t_inside_link)
        # Host values (RFC 3986 authorities): IP-literals are served, the rest
        # of the grammar's outside is a 400.
        for name, host in (("ipv6", "[::1]"), ("ipv6-port", f"[2001:DB8::1]:{self.port}"),
                           ("ipv4-port", f"127.0.0.1:{self.port}"), ("empty-port", "localhost:")):
            self.case(f"errors/host-{name}", lambda host=host: self.expect_file(
                self.one(req("GET", "/index.html", host=host, headers=cl)), "index.html"))
        for name, host in (("userinfo", "user@localhost"), ("open-literal", "[::1"),
                           ("zone", "[fe80::1%25lo]"), ("ipvfuture", "[v1.x]"),
                           ("big-port", "localhost:65536"), ("bad-escape", "local%zzhost"),
                           ("two-colons", "localhost:80:80")):
            self.case(f"errors/host-{name}", lambda host=host: "status %s" % self.expect_status(
                req("GET", "/index.html", host=host, headers=cl),
                self.p["bad_authority_statuses"], allow_close=True))

    def t_post(self):
        r = self.one(req("POST", "/index.html", headers=[
            ("Content-Type", "text/plain"), ("Content-Length", "5"), ("Connection", "close")],
            body=b"hello"))
        check(r.status == 405, f"status {r.status} != 405")
        allow = r.get("allow")
        if allow is not None:
            toks = {t.strip().upper() for t in allow.split(",")}
            check({"GET", "HEAD"} <= toks and "POST" not in toks, f"Allow: {allow}")
        self.alive()
        return f"Allow: {allow}"

    def t_inside_link(self):
        # Record only: 200 (follows in-docroot links) or 403/404 (refuses links).
        r = self.get("/inside_link")
        check(r.status in (200, 403, 404), f"status {r.status}")
        if r.status == 200:
            self.expect_file(r, "index.html")
        return f"status {r.status}"

    # ---- traversal ------------------------------------------------------

    TRAVERSALS = [
        ("dotdot", "/../../etc/passwd"),
        ("dotdot-deep", "/dir/../../../../../../etc/passwd"),
        ("pct-dotdot", "/%2e%2e/%2e%2e/etc/passwd"),
        ("pct-dotdot-upper", "/%2E%2E/%2E%2E/%2E%2E/etc/passwd"),
        ("double-pct", "/%252e%252e/etc/passwd"),
        ("overlong-utf8", "/%c0%ae%c0%ae/etc/passwd"),
        ("pct-backslash", "/..%5c..%5cetc/passwd"),
        ("nul", "/index.html%00.txt"),
        ("pct-slash", "/dir/..%2f..%2fetc/passwd"),
        ("backslash", "/..\\..\\..\\etc\\passwd"),
        ("absolute-path", "//etc/passwd"),
        ("absolute-uri", "http://localhost/../../etc/passwd"),
        ("no-slash", "../../etc/passwd"),
        ("escape-dotdot", "/escape/../escape"),
    ]

    def g_traversal(self):
        for name, path in self.TRAVERSALS:
            self.case(f"traversal/{name}", lambda p=path: "status %s" % self.expect_status(
                req("GET", p, headers=[("Connection", "close")]), {400, 403, 404}))

    # ---- keepalive ------------------------------------------------------

    def g_keepalive(self):
        self.case("keepalive/100-sequential", self.t_ka_100)
        self.case("keepalive/http10-close", self.t_ka_10_close)
        self.case("keepalive/http10-keepalive", self.t_ka_10_ka)
        self.case("keepalive/http11-close", self.t_ka_11_close)
        self.case("keepalive/http11-default", self.t_ka_11_default)

    def cycle_files(self):
        return ["index.html", "1k.bin", "16k.bin", "style.css", "dir/index.html",
                "script.js", "0.bin", "data.json", "1.bin", "image.png"]

    def t_ka_100(self):
        files = self.cycle_files()
        with self.conn() as c:
            for i in range(100):
                rel = files[i % len(files)]
                c.send(req("GET", "/" + rel))
                try:
                    r = c.read_response()
                except Closed:
                    raise TestFailure(f"connection closed after {i} requests")
                try:
                    self.expect_file(r, rel)
                except TestFailure as e:
                    raise TestFailure(f"request {i} /{rel}: {e}")
            check(not c.is_closed(0.3), "connection closed after the 100th response")
        return "100 ok"

    def t_ka_10_close(self):
        with self.conn() as c:
            c.send(req("GET", "/index.html", version="HTTP/1.0"))
            r = c.read_response()
            self.expect_file(r, "index.html")
            check(r.version in ("HTTP/1.0", "HTTP/1.1"), f"version {r.version}")
            check(c.is_closed(5.0), "HTTP/1.0 connection not closed after the response")

    def t_ka_10_ka(self):
        with self.conn() as c:
            c.send(req("GET", "/index.html", version="HTTP/1.0",
                       headers=[("Connection", "keep-alive")]))
            r = c.read_response()
            self.expect_file(r, "index.html")
            advertised = "keep-alive" in r.tokens("connection")
            closed = c.is_closed(1.0)
            state = "closed" if closed else "open"
            check(state in self.p["http10_keepalive"], f"connection {state}")
            if closed:
                check(not advertised, "advertised Connection: keep-alive, then closed")
                return "closed"
            check(advertised, "kept open without Connection: keep-alive in the response")
            c.send(req("GET", "/1k.bin", version="HTTP/1.0"))
            self.expect_file(c.read_response(), "1k.bin")
            return "open"

    def t_ka_11_close(self):
        with self.conn() as c:
            c.send(req("GET", "/index.html", headers=[("Connection", "close")]))
            r = c.read_response()
            self.expect_file(r, "index.html")
            check("close" in r.tokens("connection"), "response lacks Connection: close")
            check(c.is_closed(5.0), "not closed after Connection: close")

    def t_ka_11_default(self):
        with self.conn() as c:
            c.send(req("GET", "/index.html"))
            self.expect_file(c.read_response(), "index.html")
            check(not c.is_closed(1.0), "HTTP/1.1 connection closed without Connection: close")
            c.send(req("GET", "/1k.bin"))
            self.expect_file(c.read_response(), "1k.bin")

    # ---- pipeline -------------------------------------------------------

    def g_pipeline(self):
        self.case("pipeline/32-gets", self.t_pipeline, ["GET"])
        self.case("pipeline/get-head-mix", self.t_pipeline, ["GET", "HEAD"])
        self.case("pipeline/close-last", self.t_pipeline_close)
        self.case("pipeline/split-writes", self.t_pipeline_split)

    def t_pipeline(self, methods):
        files = self.cycle_files() + ["1m.bin", "plain.txt", "image.svg"]
        reqs = [(methods[i % len(methods)], files[i % len(files)]) for i in range(32)]
        with self.conn(30.0) as c:
            c.send(b"".join(req(m, "/" + f) for m, f in reqs))
            for i, (m, f) in enumerate(reqs):
                try:
                    r = c.read_response(m, keep_body=0)
                except Closed:
                    raise TestFailure(f"closed before response {i}")
                try:
                    if m == "HEAD":
                        check(r.status == 200 and r.body_len == 0, f"HEAD {r.status}")
                        check(r.get("content-length") == str(self.files[f]["size"]),
                              "HEAD Content-Length")
                    else:
                        self.expect_file(r, f)
                except TestFailure as e:
                    raise TestFailure(f"response {i} ({m} /{f}): {e}")
        self.alive()
        return "32 ok"

    def t_pipeline_close(self):
        with self.conn() as c:
            c.send(req("GET", "/1k.bin") + req("GET", "/index.html", headers=[("Connection", "close")])
                   + req("GET", "/16k.bin"))
            self.expect_file(c.read_response(), "1k.bin")
            self.expect_file(c.read_response(), "index.html")
            check(c.is_closed(5.0), "not closed after the Connection: close request")

    def t_pipeline_split(self):
        # Requests split at awkward points across writes.
        data = req("GET", "/1k.bin") + req("GET", "/index.html") + req(
            "GET", "/16k.bin", headers=[("Connection", "close")])
        with self.conn() as c:
            for i in range(0, len(data), 7):
                c.send(data[i:i + 7])
                time.sleep(0.002)
            self.expect_file(c.read_response(), "1k.bin")
            self.expect_file(c.read_response(), "index.html")
            self.expect_file(c.read_response(), "16k.bin")

    # ---- concurrency ----------------------------------------------------

    def g_concurrency(self):
        self.case(f"concurrency/{self.concurrency}", self.t_concurrency, self.concurrency)

    def t_concurrency(self, n):
        """n connections open at once, then each sends one GET; all must succeed.
        Over TLS each also makes its handshake while the others wait on theirs."""
        sel = selectors.DefaultSelector()
        files = ["index.html", "1k.bin", "16k.bin"]
        deadline = time.monotonic() + 60.0
        socks, states = [], []
        try:
            for i in range(n):
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                s = socket.socket(family, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((self.host, self.port))
                socks.append(s)
                states.append({"out": req("GET", "/" + files[i % 3],
                                          headers=[("Connection", "close")]),
                               "in": bytearray(), "done": False, "err": None,
                               "phase": "connect"})
                sel.register(s, selectors.EVENT_WRITE, i)
            pending = n
            while pending and time.monotonic() < deadline:
                for key, ev in sel.select(timeout=1.0):
                    i, s = key.data, key.fileobj
                    st = states[i]
                    try:
                        if st["phase"] == "connect":
                            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                            if err:
                                raise OSError(err, "connect failed")
                            st["phase"] = "send"
                            if self.tls is not None:
                                sel.unregister(s)
                                s = socks[i] = self.tls.wrap_socket(
                                    s, server_hostname=self.sni, do_handshake_on_connect=False)
                                sel.register(s, selectors.EVENT_WRITE, i)
                                st["phase"] = "handshake"
                        if st["phase"] == "handshake":
                            try:
                                s.do_handshake()
                            except ssl.SSLWantReadError:
                                sel.modify(s, selectors.EVENT_READ, i)
                                continue
                            except ssl.SSLWantWriteError:
                                sel.modify(s, selectors.EVENT_WRITE, i)
                                continue
                            st["phase"] = "send"
                        if st["phase"] == "send":
                            try:
                                sent = s.send(st["out"])
                            except ssl.SSLWantWriteError:
                                continue
                            st["out"] = st["out"][sent:]
                            if not st["out"]:
                                st["phase"] = "recv"
                                sel.modify(s, selectors.EVENT_READ, i)
                            continue
                        # Read until the socket (or, over TLS, the record layer)
                        # has nothing more: decrypted bytes wait inside the SSL
                        # object, where select() cannot see them.
                        while True:
                            try:
                                d = s.recv(65536)
                            except (ssl.SSLWantReadError, BlockingIOError):
                                break
                            if not d:
                                st["done"] = True
                                sel.unregister(s)
                                pending -= 1
                                break
                            st["in"] += d
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as e:
                        st["err"] = f"{st['phase']}: {e}"
                        st["done"] = True
                        sel.unregister(s)
                        pending -= 1
            bad = []
            for i, st in enumerate(states):
                rel = files[i % 3]
                if st["err"] or not st["done"]:
                    bad.append(f"#{i}: {st['err'] or 'timeout in ' + st['phase']}")
                    continue
                head, _, body = bytes(st["in"]).partition(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200") or \
                        hashlib.sha256(body).hexdigest() != self.files[rel]["sha256"]:
                    bad.append(f"#{i}: {head[:30]!r} len {len(body)}")
            check(not bad, f"{len(bad)}/{n} failed, e.g. {bad[:3]}")
        finally:
            for s in socks:
                s.close()
            sel.close()
        self.alive()
        return f"{n} ok"

    # ---- gzip -----------------------------------------------------------

    def g_gzip(self):
        self.case("gzip/accept", self.t_gzip_accept, "gzip")
        self.case("gzip/accept-list", self.t_gzip_accept, "deflate, gzip;q=0.8, br;q=0.1")
        self.case("gzip/identity", self.t_gzip_identity, None)
        self.case("gzip/q0", self.t_gzip_identity, "gzip;q=0")
        self.case("gzip/other-coding", self.t_gzip_identity, "br")
        self.case("gzip/stale", self.t_gzip_stale)
        self.case("gzip/no-gz-sibling", self.t_gzip_nosibling)

    def t_gzip_accept(self, ae):
        r = self.get("/gz/page.html", headers=[("Accept-Encoding", ae)])
        check(r.status == 200, f"status {r.status}")
        check(r.get("content-encoding", "").lower() == "gzip",
              f"Content-Encoding {r.get('content-encoding')!r}")
        check("accept-encoding" in r.tokens("vary"), f"Vary {r.get_all('vary')}")
        ct = (r.get("content-type") or "").split(";")[0].strip().lower()
        check(ct == "text/html", f"Content-Type {ct!r}")
        check(r.get("content-length") == str(r.body_len), "Content-Length mismatch")
        check(gzip.decompress(r.body) == self.data("gz/page.html"), "gunzipped body differs")

    def t_gzip_identity(self, ae):
        hdrs = [("Accept-Encoding", ae)] if ae else []
        r = self.get("/gz/page.html", headers=hdrs)
        check(r.get("content-encoding", "identity").lower() == "identity",
              f"Content-Encoding {r.get('content-encoding')!r}")
        self.expect_file(r, "gz/page.html")

    def t_gzip_stale(self):
        r = self.get("/gz/stale.html", headers=[("Accept-Encoding", "gzip")])
        check(r.status == 200, f"status {r.status}")
        enc = r.get("content-encoding", "identity").lower()
        check(enc in ("identity", "gzip"), f"Content-Encoding {enc}")
        if enc == "gzip":
            check(r.sha256 == self.files["gz/stale.html.gz"]["sha256"], "gzip body differs")
        else:
            self.expect_file(r, "gz/stale.html")
        check(enc in self.p["stale_gz_statuses"], f"served {enc} for a stale .gz")
        return enc

    def t_gzip_nosibling(self):
        r = self.get("/index.html", headers=[("Accept-Encoding", "gzip")])
        check(r.get("content-encoding", "identity").lower() == "identity",
              f"Content-Encoding {r.get('content-encoding')!r}")
        self.expect_file(r, "index.html")

    # ---- limits ---------------------------------------------------------

    def g_limits(self):
        cl = [("Connection", "close")]
        self.case("limits/uri-10k", lambda: self.expect_status(
            req("GET", "/" + "a" * 10240, headers=cl), {414}))
        self.case("limits/header-64k", lambda: "status %s" % self.expect_status(
            req("GET", "/index.html", headers=cl + [("X-Big", "b" * 65536)]), {400, 431},
            allow_close=False))
        self.case(f"limits/{self.many_headers}-headers", lambda: "status %s" % self.expect_status(
            req("GET", "/index.html", headers=cl + [(f"X-H{i}", "v") for i in range(self.many_headers)]),
            self.p["many_headers_statuses"]))
        self.case("limits/no-host", lambda: self.expect_status(
            req("GET", "/index.html", host=None, headers=cl), {400}))
        self.case("limits/dup-host", lambda: self.expect_status(
            req("GET", "/index.html", headers=cl + [("Host", "localhost")]), {400}))
        self.case("limits/cl-te", lambda: "status %s" % self.expect_status(
            req("GET", "/index.html", headers=cl + [("Content-Length", "5"),
                                                     ("Transfer-Encoding", "chunked")],
                body=b"0\r\n\r\n"), self.p["cl_te_statuses"]))
        self.case("limits/obs-fold", lambda: "status %s" % self.expect_status(
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Fold: a\r\n b\r\n"
            b"Connection: close\r\n\r\n", self.p["obs_fold_statuses"]))
        self.case("limits/space-before-colon", lambda: "status %s" % self.expect_status(
            b"GET /index.html HTTP/1.1\r\nHost : localhost\r\nConnection: close\r\n\r\n",
            self.p["space_colon_statuses"]))
        self.case("limits/nul-in-header", lambda: self.expect_status(
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00b\r\n"
            b"Connection: close\r\n\r\n", {400}))
        self.case("limits/bad-content-length", lambda: self.expect_status(
            req("GET", "/index.html", headers=cl + [("Content-Length", "abc")]), {400}))

    # ---- hostile --------------------------------------------------------
    #
    # Attacks on the parser and the connection state machine. Each case
    # states the expected answer; every case also checks that the server
    # still serves a normal request afterwards. Document-root attacks that
    # need the guest (device nodes, sockets, hard links, files truncated or
    # replaced mid-transfer, connection floods) are in the guest test
    # 36-hostile-docroot.sh.

    SMUGGLING = [
        # name, extra header lines, body. Expected: 400 (or 501 for a coding
        # the server does not implement) and the connection closed, so that
        # the smuggled request after the head is never answered.
        ("dup-cl-same", [("Content-Length", "5"), ("Content-Length", "5")], b"hello"),
        ("dup-cl-differ", [("Content-Length", "5"), ("Content-Length", "6")], b"hello!"),
        ("cl-list", [("Content-Length", "5, 5")], b"hello"),
        ("cl-negative", [("Content-Length", "-1")], b""),
        ("cl-plus", [("Content-Length", "+5")], b"hello"),
        ("cl-huge", [("Content-Length", "99999999999999999999999")], b""),
        ("te-chunked", [("Transfer-Encoding", "chunked")], b"0\r\n\r\n"),
        ("te-chunked-identity", [("Transfer-Encoding", "chunked, identity")], b"0\r\n\r\n"),
        ("te-identity-cl", [("Transfer-Encoding", "identity"), ("Content-Length", "5")], b"hello"),
        ("te-xchunked", [("Transfer-Encoding", "xchunked")], b"0\r\n\r\n"),
        ("te-twice", [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "identity")],
         b"0\r\n\r\n"),
        ("te-uppercase", [("Transfer-Encoding", "CHUNKED")], b"0\r\n\r\n"),
    ]
    SMUGGLED = b"GET /private.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"

    def g_hostile(self):
        for name, hdrs, body in self.SMUGGLING:
            self.case(f"hostile/smuggle-{name}", self.t_smuggle, hdrs, body)
        self.case("hostile/smuggle-te-space-colon", self.t_smuggle_raw,
                  b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
                  b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n")
        self.case("hostile/smuggle-te-obs-fold", self.t_smuggle_raw,
                  b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n"
                  b" Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        cl = b"Connection: close\r\n"
        self.case("hostile/bare-cr-line-end", lambda: "status %s" % self.expect_status(
            b"GET /index.html HTTP/1.1\rHost: localhost\r\n" + cl + b"\r\n", {400},
            allow_close=True))
        self.case("hostile/bare-cr-in-value", lambda: self.expect_status(
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-A: a\rb\r\n" + cl + b"\r\n",
            {400}))
        self.case("hostile/bare-lf-line-ends", lambda: self.expect_status(
            b"GET /index.html HTTP/1.1\nHost: localhost\nConnection: close\n\n",
            self.p["bare_lf_statuses"]))
        self.case("hostile/lf-in-value", lambda: "status %s" % self.expect_status(
            b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-A: a\nb\r\n" + cl + b"\r\n",
            self.p["lf_in_value_statuses"]))
        self.case("hostile/nul-in-uri", lambda: self.expect_status(
            b"GET /index.html\x00.txt HTTP/1.1\r\nHost: localhost\r\n" + cl + b"\r\n", {400}))
        self.case("hostile/nul-in-method", lambda: "status %s" % self.expect_status(
            b"G\x00T /index.html HTTP/1.1\r\nHost: localhost\r\n" + cl + b"\r\n",
            {400, 405, 501}))
        self.case("hostile/bad-version-1.2", lambda: "status %s" % self.expect_status(
            req("GET", "/", version="HTTP/1.2", headers=[("Connection", "close")]),
            {200, 400, 505}, allow_close=True))
        self.case("hostile/bad-version-lowercase", lambda: "status %s" % self.expect_status(
            req("GET", "/", version="http/1.1", headers=[("Connection", "close")]), {400},
            allow_close=True))
        self.case("hostile/version-0.9", self.t_http09)
        self.case("hostile/method-lowercase", lambda: "status %s" % self.expect_status(
            req("get", "/index.html", headers=[("Connection", "close")]), {400, 405, 501}))
        self.case("hostile/method-long", lambda: "status %s" % self.expect_status(
            req("G" * 4096, "/index.html", headers=[("Connection", "close")]),
            {400, 405, 414, 501}, allow_close=True))
        self.case("hostile/absolute-form", lambda: self.expect_file(self.one(
            req("GET", "http://localhost/index.html", headers=[("Connection", "close")])),
            "index.html"))
        self.case("hostile/absolute-form-https", lambda: "status %s" % self.expect_status(
            req("GET", "https://localhost/index.html", headers=[("Connection", "close")]),
            {200, 400}))
        self.case("hostile/authority-form", lambda: "status %s" % self.expect_status(
            req("CONNECT", "localhost:80", headers=[("Connection", "close")]),
            self.p["authority_form_statuses"], allow_close=True))
        self.case("hostile/authority-form-get", lambda: "status %s" % self.expect_status(
            req("GET", "localhost:80", headers=[("Connection", "close")]), {400}))
        self.case("hostile/asterisk-form", lambda: "status %s" % self.expect_status(
            req("OPTIONS", "*", headers=[("Connection", "close")]),
            self.p["asterisk_form_statuses"]))
        for name in ("proc_link", "proc_dir/version", "sys_dir/kernel", "proc_rel"):
            self.case(f"hostile/link-{name.replace('/', '-')}", lambda n=name: "status %s" %
                      self.expect_status(req("GET", "/" + n, headers=[("Connection", "close")]),
                                         {403, 404}))
        self.case("hostile/pipeline-flood-10000", self.t_pipeline_flood, 10000)
        self.case("hostile/half-close-after-request", self.t_half_close)
        self.case("hostile/half-close-mid-head", self.t_half_close_partial)
        self.case("hostile/rst-mid-response", self.t_rst_mid_response, 20)
        self.case("hostile/rst-after-request", self.t_rst_after_request, 50)

    def t_http09(self):
        """A request line without a version: 400 or close, never a bare body."""
        with self.conn() as c:
            c.send(b"GET /index.html\r\n\r\n")
            raw = b""
            while len(raw) < 1 << 20:
                try:
                    d = c.sock.recv(65536)
                except ConnectionResetError:
                    break
                if not d:
                    break
                raw += d
        if not raw:
            got = "closed"
        elif raw.startswith(b"HTTP/1.") and raw[9:12] == b"400":
            got = "400"
        elif raw == self.data("index.html"):
            got = "http/0.9"
        else:
            got = f"other {raw[:40]!r}"
        check(got in self.p["http09"], f"answer {got} not in {sorted(self.p['http09'])}")
        self.alive()
        return got

    def t_smuggle(self, hdrs, body):
        chunked = any(k == "Transfer-Encoding" and v.lower() == "chunked" for k, v in hdrs)
        return self.t_smuggle_raw(req("GET", "/index.html", headers=hdrs, body=body), chunked)

    def t_smuggle_raw(self, raw, chunked=False):
        """400/501 then close: the bytes after the head are never a request."""
        with self.conn() as c:
            c.send(raw + self.SMUGGLED)
            try:
                r = c.read_response()
            except Closed:
                self.alive()
                return "closed"
            if chunked and self.p["chunked_body"] == "parse" and r.status == 200:
                # The body was parsed as chunked: the next request is real.
                r2 = c.read_response()
                check(r2.status == 403, f"the request after the body: {r2.status}")
                self.alive()
                return "chunked body parsed; next request 403"
            check(r.status in (400, 501), f"status {r.status} not in [400, 501]")
            check(c.is_closed(5.0), "connection kept open after a smuggling attempt")
        self.alive()
        return f"status {r.status}, closed"

    def t_pipeline_flood(self, n):
        """n pipelined GETs written as fast as the server takes them while the
        responses are read: all answered 200 in order with the right bodies,
        none lost."""
        want = self.files["index.html"]
        one = req("GET", "/index.html", headers=[("X-Seq", "0")])
        with self.conn(60.0) as c:
            c.queue(one * (n - 1) + req("GET", "/index.html", headers=[("Connection", "close")]))
            got = 0
            cap = self.p["pipeline_flood_min"]
            for i in range(n):
                if cap is not None and got >= cap and c.is_closed(5.0):
                    break
                r = c.read_response()
                check(r.status == 200 and r.sha256 == want["sha256"],
                      f"response #{i}: status {r.status} or body wrong")
                got += 1
            check(not c.out or cap is not None,
                  f"{len(c.out)} request bytes never taken after {got} responses")
            check(c.is_closed(5.0), "not closed after the last (Connection: close) request")
        self.alive()
        return f"{got} responses"

    def t_half_close(self):
        """Request, then shutdown(SHUT_WR): the full response, then close."""
        with self.conn() as c:
            c.send(req("GET", "/index.html"))
            c.half_close()
            r = c.read_response()
            self.expect_file(r, "index.html")
            check(c.is_closed(5.0), "connection not closed after the client's FIN")
        self.alive()

    def t_half_close_partial(self):
        """Half a head, then FIN: closed promptly (no wait for the header
        timeout), at most a 400."""
        t0 = time.monotonic()
        with self.conn() as c:
            c.send(b"GET /index.html HTTP/1.1\r\nHost: loc")
            c.half_close()
            try:
                r = c.read_response()
                check(r.status == 400, f"status {r.status} for a truncated head")
            except Closed:
                pass
            check(c.is_closed(5.0), "connection open after FIN on a partial head")
        dt = time.monotonic() - t0
        check(dt < self.p["header_timeout"] / 2, f"closed only after {dt:.1f}s")
        self.alive()
        return f"closed after {dt:.1f}s"

    def biggest(self):
        return max((k for k, v in self.files.items() if v["type"] == "file"),
                   key=lambda k: self.files[k]["size"])

    def rst(self, c):
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.sock.close()

    def t_rst_mid_response(self, n):
        """Read 64 KiB of the largest file, then reset the connection; n times."""
        big = self.biggest()
        for _ in range(n):
            c = self.conn()
            c.send(req("GET", "/" + big))
            c.sock.recv(65536)
            self.rst(c)
        self.alive()
        return f"{n} resets during /{big}"

    def t_rst_after_request(self, n):
        """A request immediately followed by a reset; n times."""
        for i in range(n):
            c = self.conn()
            c.send(req("GET", "/" + (self.biggest() if i % 2 else "index.html")))
            self.rst(c)
        self.alive()
        return f"{n} resets"

    # ---- slowloris ------------------------------------------------------

    def g_slowloris(self):
        # Both cases wait for the server's header timeout: run them in
        # parallel threads so the group costs one timeout, not two.
        limit = self.p["header_timeout"]
        out = {}

        def worker(kind):
            out[kind] = self.slow(kind, limit)

        ts = [threading.Thread(target=worker, args=(k,)) for k in ("trickle", "idle")]
        for t in ts:
            t.start()
        for t in ts:
            t.join(limit + 30)
        for k in ("trickle", "idle"):
            ok, detail = out.get(k, (False, "worker did not finish"))
            self.results.append((f"slowloris/{k}", ok, detail))
        self.case("slowloris/alive", self.alive)

    def slow(self, kind, limit):
        """Stall a request head; the server must drop the connection in time.

        trickle: a partial request line, then one more header byte per second
        (never finishing the head). idle: connect and send nothing.
        A response before the close (e.g. 408) is fine.
        """
        grace = 5.0 + limit * 0.2
        payload = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 4000
        t0 = time.monotonic()
        answered = b""
        try:
            with self.conn(1.0) as c:
                if kind == "trickle":
                    c.send(payload[:8])
                pos = 8
                while time.monotonic() - t0 < limit + grace:
                    if kind == "trickle":
                        try:
                            c.send(payload[pos:pos + 1])
                        except (BrokenPipeError, ConnectionResetError):
                            break
                        pos += 1
                    try:
                        d = c.sock.recv(4096)
                    except socket.timeout:
                        continue
                    except ConnectionResetError:
                        break
                    if not d:
                        break
                    answered = answered or d[:12]
                else:
                    return False, (f"connection still open after {time.monotonic() - t0:.1f}s "
                                   f"(header timeout {limit:.0f}s)")
        except OSError as e:
            return False, f"{type(e).__name__}: {e}"
        dt = time.monotonic() - t0
        how = f", answered {answered!r}" if answered else ""
        return True, f"closed after {dt:.1f}s{how} (limit {limit:.0f}s + {grace:.0f}s grace)"

    # ---- garbage --------------------------------------------------------

    def g_garbage(self):
        self.case(f"garbage/{self.garbage_count}", self.t_garbage, self.garbage_count)

    def t_garbage(self, count):
        rng = random.Random(f"{self.seed}:garbage")
        stats = {}
        for i in range(count):
            kind = i % 4
            if kind == 0:      # pure random bytes
                g = rng.randbytes(rng.randint(1, 512))
            elif kind == 1:    # random printable junk with CRLFs
                g = bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ/ :%\r\n\t.?#") for _ in
                          range(rng.randint(1, 512)))
            elif kind == 2:    # broken request line: method + random bytes
                g = b"GET " + rng.randbytes(rng.randint(1, 200)).replace(b"\n", b"\x01")
            else:              # valid line, random header garbage
                g = (b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                     + rng.randbytes(rng.randint(1, 200)).replace(b":", b"\x02")
                     .replace(b"\n", b"\x03"))
            g = g + b"\r\n\r\n"
            try:
                with self.conn(5.0) as c:
                    try:
                        c.send(g)
                    except (BrokenPipeError, ConnectionResetError):
                        stats["closed"] = stats.get("closed", 0) + 1
                        continue
                    try:
                        r = c.read_response()
                        st = r.status
                    except Closed:
                        st = "closed"
                    except TestFailure as e:
                        raise TestFailure(f"#{i} ({g[:40]!r}): unparsable response: {e}")
            except socket.timeout:
                raise TestFailure(f"#{i} ({g[:40]!r}): no answer within 5s")
            allowed = self.p["garbage_header_statuses"] if kind == 3 else (400, "closed")
            check(st in allowed, f"#{i} ({g[:40]!r}): status {st}")
            stats[st] = stats.get(st, 0) + 1
        self.alive()
        return ", ".join(f"{k}: {v}" for k, v in sorted(stats.items(), key=str))

    # ---- vhost ----------------------------------------------------------

    def g_vhost(self):
        cl = [("Connection", "close")]
        for h in ("a.example", "b.example"):
            rel = f"vhosts/{h}/index.html"
            self.case(f"vhost/{h}", lambda h=h, rel=rel: self.expect_file(
                self.get("/", host=h), rel))
            self.case(f"vhost/{h}-index", lambda h=h, rel=rel: self.expect_file(
                self.get("/index.html", host=h), rel))
        self.case("vhost/a-with-port", lambda: self.expect_file(
            self.get("/", host=f"a.example:{self.port}"), "vhosts/a.example/index.html"))
        self.case("vhost/case-insensitive", lambda: self.expect_file(
            self.get("/", host="B.Example"), "vhosts/b.example/index.html"))
        self.case("vhost/ipv6-literal", lambda: self.expect_file(
            self.get("/", host=f"[2001:DB8:0:0::1]:{self.port}"), "vhosts/[2001:db8::1]/index.html"))
        self.case("vhost/unknown", self.t_vhost_unknown)
        self.case("vhost/dotdot-host", lambda: "status %s" % self.expect_status(
            req("GET", "/", host="../etc", headers=cl), {400, 404}))
        self.case("vhost/slash-host", lambda: "status %s" % self.expect_status(
            req("GET", "/passwd", host="..%2fetc", headers=cl), {400, 404}))
        self.case("vhost/absolute-uri", lambda: self.expect_file(
            self.get("http://b.example/", host="a.example"), "vhosts/b.example/index.html"))

    def t_vhost_unknown(self):
        r = self.get("/", host="unknown.example")
        check(r.status in (200, 400, 404), f"status {r.status}")
        for h in ("a.example", "b.example"):
            check(r.sha256 != self.files[f"vhosts/{h}/index.html"]["sha256"],
                  f"unknown host served {h}")
        return f"status {r.status}"


def run(host, port, manifest, groups=None, profile="tux", **params):
    """Run the suite; returns [(name, passed, detail)].

    params: timeout, header_timeout, garbage_count, many_headers, concurrency,
    tls (an ssl.SSLContext: HTTPS) and sni.
    """
    if groups is not None:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown groups {sorted(unknown)}")
    return Suite(host, port, manifest, profile=profile, **params).run(groups)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Black-box HTTP suite for a static server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--manifest", required=True, help="manifest JSON from fixture.py")
    ap.add_argument("--groups", help="comma-separated subset of: " + ",".join(GROUPS))
    ap.add_argument("--skip-groups", help="comma-separated groups to leave out")
    ap.add_argument("--server-profile", choices=sorted(PROFILES), default="tux")
    ap.add_argument("--header-timeout", type=float,
                    help="seconds the server may take to drop a stalled request head "
                         "(default: 30 for tux, 10 for nginx)")
    ap.add_argument("--garbage-count", type=int, default=200)
    ap.add_argument("--many-headers", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=500)
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per socket op")
    a = ap.parse_args(argv)
    with open(a.manifest) as f:
        manifest = json.load(f)
    groups = set(a.groups.split(",")) if a.groups else set(GROUPS)
    if a.skip_groups:
        groups -= set(a.skip_groups.split(","))
    t0 = time.monotonic()
    results = run(a.host, a.port, manifest, groups, profile=a.server_profile,
                  timeout=a.timeout, header_timeout=a.header_timeout,
                  garbage_count=a.garbage_count, many_headers=a.many_headers,
                  concurrency=a.concurrency)
    for name, ok, detail in results:
        if ok:
            print(f"PASS {name}" + (f" ({detail})" if detail else ""))
        else:
            print(f"FAIL {name} - {detail}")
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"# {time.monotonic() - t0:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
