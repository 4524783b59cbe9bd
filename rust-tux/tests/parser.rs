//! Request parser: accepted forms, smuggling defences and limits.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tux_http::parser::{parse_request, Error, Limits, Method, Parse, Request, TargetForm, Version};
use tux_http::status::Status;

fn ok(buf: &[u8]) -> (Request<'_>, usize) {
    match parse_request(buf, &Limits::DEFAULT) {
        Ok(Parse::Complete { request, consumed }) => (request, consumed),
        other => panic!("{:?}: unexpected {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn err(buf: &[u8]) -> Error {
    match parse_request(buf, &Limits::DEFAULT) {
        Err(e) => e,
        other => panic!("{:?}: unexpected {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn incomplete(buf: &[u8]) {
    match parse_request(buf, &Limits::DEFAULT) {
        Ok(Parse::Incomplete) => {}
        other => panic!("{:?}: unexpected {other:?}", String::from_utf8_lossy(buf)),
    }
}

const H: &str = "Host: x\r\n";

fn req(line: &str, fields: &str) -> Vec<u8> {
    format!("{line}\r\n{fields}\r\n").into_bytes()
}

#[test]
fn methods() {
    for (m, want) in [
        ("GET", Method::Get),
        ("HEAD", Method::Head),
        ("POST", Method::Post),
        ("PUT", Method::Put),
        ("DELETE", Method::Delete),
        ("OPTIONS", Method::Options),
        ("TRACE", Method::Trace),
        ("PATCH", Method::Patch),
        ("CONNECT", Method::Connect),
        ("BREW", Method::Other(b"BREW")),
        ("get", Method::Other(b"get")),
    ] {
        let b = req(&format!("{m} / HTTP/1.1"), H);
        assert_eq!(ok(&b).0.method, want);
    }
    assert_eq!(err(&req("G(ET / HTTP/1.1", H)), Error::InvalidMethod);
    assert_eq!(err(&req(" GET / HTTP/1.1", H)), Error::InvalidMethod);
}

#[test]
fn request_line_shape() {
    assert_eq!(err(&req("GET  / HTTP/1.1", H)), Error::InvalidRequestLine);
    assert_eq!(err(&req("GET / HTTP/1.1 ", H)), Error::InvalidVersion);
    assert_eq!(err(&req("GET /", H)), Error::InvalidRequestLine);
    assert_eq!(err(&req("GET / HTTP/1.1\tx", H)), Error::InvalidVersion);
    assert_eq!(err(&req("GET /a\x01 HTTP/1.1", H)), Error::InvalidTarget);
    assert_eq!(err(&req("GET /a#frag HTTP/1.1", H)), Error::InvalidTarget);
    assert_eq!(err(&req("GET /a\x00 HTTP/1.1", H)), Error::Nul);
}

#[test]
fn versions() {
    assert_eq!(ok(&req("GET / HTTP/1.0", "")).0.version, Version::Http10);
    assert_eq!(ok(&req("GET / HTTP/1.1", H)).0.version, Version::Http11);
    assert_eq!(ok(&req("GET / HTTP/1.9", H)).0.version, Version::Http11);
    for v in ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9"] {
        let e = err(&req(&format!("GET / {v}"), H));
        assert_eq!(e, Error::UnsupportedVersion);
        assert_eq!(e.status(), Status::VersionNotSupported);
    }
    for v in [
        "HTTP/1",
        "HTTP/1.10",
        "HTTP/10.0",
        "http/1.1",
        "HTTP/1.x",
        "HTTX/1.1",
    ] {
        let e = err(&req(&format!("GET / {v}"), H));
        assert_eq!(e, Error::InvalidVersion, "{v}");
        assert_eq!(e.status(), Status::BadRequest);
    }
}

#[test]
fn targets() {
    let (r, _) = ok(b"GET /p/a%20b?q=1&r=%2F HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.target_form, TargetForm::Origin);
    assert_eq!(r.path, b"/p/a%20b");
    assert_eq!(r.query, Some(&b"q=1&r=%2F"[..]));

    let (r, _) = ok(b"GET http://Example.com:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n");
    assert_eq!(r.target_form, TargetForm::Absolute);
    assert_eq!(r.host, Some(&b"Example.com:8080"[..]));
    assert_eq!(r.path, b"/x");
    assert_eq!(r.query, Some(&b"y"[..]));

    let (r, _) = ok(b"GET https://h HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.path, b"/");

    assert_eq!(err(&req("GET ftp://h/ HTTP/1.1", H)), Error::InvalidTarget);
    assert_eq!(
        err(&req("GET http://u@h/ HTTP/1.1", H)),
        Error::InvalidTarget
    );
    assert_eq!(err(&req("GET http:/// HTTP/1.1", H)), Error::InvalidTarget);

    let b = req("OPTIONS * HTTP/1.1", H);
    let (r, _) = ok(&b);
    assert_eq!(r.target_form, TargetForm::Asterisk);
    let b = req("CONNECT h:443 HTTP/1.1", H);
    let (r, _) = ok(&b);
    assert_eq!(r.target_form, TargetForm::Authority);
    assert_eq!(r.path, b"");

    // Raw UTF-8 in the target is accepted (validated by path resolution).
    let (r, _) = ok("GET /caf\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n".as_bytes());
    assert_eq!(r.path, "/caf\u{e9}".as_bytes());
}

#[test]
fn line_endings() {
    // Bare LF is accepted everywhere.
    let (r, n) = ok(b"GET / HTTP/1.1\nHost: a\n\nX");
    assert_eq!(n, 24);
    assert_eq!(r.host, Some(&b"a"[..]));
    // Bare CR is refused everywhere.
    assert_eq!(err(b"GET / HTTP/1.1\rHost: a\r\n\r\n"), Error::BareCr);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), Error::BareCr);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\n\rX"), Error::BareCr);
    assert_eq!(err(b"\rGET / HTTP/1.1\r\n"), Error::BareCr);
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nX: a\rb\r\nHost: a\r\n\r\n"),
        Error::BareCr
    );
}

#[test]
fn leading_empty_lines() {
    let (_, n) = ok(b"\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(n, 5 + 16 + 9 + 2);
    let mut many = b"\r\n".repeat(9);
    many.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(err(&many), Error::TooManyEmptyLines);
    incomplete(b"\r\n\r\n");
}

#[test]
fn header_syntax() {
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\n folded\r\n")),
        Error::ObsFold
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\n\tfolded\r\n")),
        Error::ObsFold
    );
    assert_eq!(err(&req("GET / HTTP/1.1", " Host: a\r\n")), Error::ObsFold);
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host : a\r\n")),
        Error::WhitespaceBeforeColon
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host\t: a\r\n")),
        Error::WhitespaceBeforeColon
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nX-(y): 1\r\n")),
        Error::InvalidHeaderName
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\n: 1\r\n")),
        Error::InvalidHeaderName
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nnocolon\r\n")),
        Error::MissingColon
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nX: a\x01b\r\n")),
        Error::InvalidHeaderValue
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nX: a\x7fb\r\n")),
        Error::InvalidHeaderValue
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nX: a\x00b\r\n")),
        Error::Nul
    );
    // Tabs and obs-text are fine in values; OWS is trimmed.
    let b = b"GET / HTTP/1.1\r\nHost: a\r\nX-Y: \t a\tb\xff \t\r\nEmpty:\r\n\r\n";
    let (r, _) = ok(b);
    assert_eq!(r.header(b"x-y"), Some(&b"a\tb\xff"[..]));
    assert_eq!(r.header(b"EMPTY"), Some(&b""[..]));
    assert_eq!(r.headers().len(), 3);
}

#[test]
fn host_rules() {
    assert_eq!(err(&req("GET / HTTP/1.1", "")), Error::MissingHost);
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a\r\nHost: a\r\n")),
        Error::DuplicateHost
    );
    assert_eq!(
        err(&req("GET / HTTP/1.0", "Host: a\r\nHost: b\r\n")),
        Error::DuplicateHost
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a/b\r\n")),
        Error::InvalidHost
    );
    assert_eq!(
        err(&req("GET / HTTP/1.1", "Host: a b\r\n")),
        Error::InvalidHost
    );
    assert_eq!(ok(&req("GET / HTTP/1.0", "")).0.host, None);
    assert_eq!(
        ok(&req("GET / HTTP/1.1", "Host:\r\n")).0.host,
        Some(&b""[..])
    );
    assert_eq!(
        ok(&req("GET / HTTP/1.1", "hOsT: [::1]:80\r\n")).0.host,
        Some(&b"[::1]:80"[..])
    );
}

#[test]
fn body_framing() {
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n",
    ));
    assert_eq!(e, Error::DuplicateContentLength);
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
    ));
    assert_eq!(e, Error::DuplicateContentLength);
    for v in [
        "1, 1",
        "-1",
        "+1",
        "0x10",
        "",
        "1 2",
        "99999999999999999999",
    ] {
        let e = err(&req(
            "GET / HTTP/1.1",
            &format!("Host: a\r\nContent-Length: {v}\r\n"),
        ));
        assert_eq!(e, Error::InvalidContentLength, "{v}");
    }
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n",
    ));
    assert_eq!(e, Error::TransferEncodingFraming);
    assert_eq!(e.status(), Status::BadRequest);
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n",
    ));
    assert_eq!(e, Error::TransferEncodingFraming);
    let e = err(&req("GET / HTTP/1.0", "Transfer-Encoding: chunked\r\n"));
    assert_eq!(e, Error::TransferEncodingFraming);
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nTransfer-Encoding: chunked\r\n",
    ));
    assert_eq!(e, Error::TransferEncodingUnsupported);
    assert_eq!(e.status(), Status::NotImplemented);
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n",
    ));
    assert_eq!(e.status(), Status::NotImplemented);

    let (r, n) = ok(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(r.content_length, 5);
    assert_eq!(n, 46);
    let e = err(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nContent-Length: 1048577\r\n",
    ));
    assert_eq!(e.status(), Status::ContentTooLarge);
}

#[test]
fn connection_and_keep_alive() {
    assert!(ok(&req("GET / HTTP/1.1", H)).0.wants_keep_alive());
    assert!(
        !ok(&req("GET / HTTP/1.1", "Host: a\r\nConnection: close\r\n"))
            .0
            .wants_keep_alive()
    );
    assert!(!ok(&req(
        "GET / HTTP/1.1",
        "Host: a\r\nConnection: Upgrade, CLOSE\r\n"
    ))
    .0
    .wants_keep_alive());
    assert!(!ok(&req("GET / HTTP/1.0", "")).0.wants_keep_alive());
    assert!(ok(&req("GET / HTTP/1.0", "Connection: Keep-Alive\r\n"))
        .0
        .wants_keep_alive());
    let both = req(
        "GET / HTTP/1.0",
        "Connection: keep-alive\r\nConnection: close\r\n",
    );
    assert!(!ok(&both).0.wants_keep_alive());
}

#[test]
fn accept_encoding() {
    let g = |v: &str| {
        let b = req(
            "GET / HTTP/1.1",
            &format!("Host: a\r\nAccept-Encoding: {v}\r\n"),
        );
        ok(&b).0.accept_gzip
    };
    assert!(g("gzip"));
    assert!(g("deflate, gzip;q=0.5, br"));
    assert!(g("GZIP"));
    assert!(g("x-gzip"));
    assert!(g("*"));
    assert!(g("gzip ; q=1.0"));
    assert!(!g("gzip;q=0"));
    assert!(!g("gzip;q=0.000"));
    assert!(!g("br, deflate"));
    assert!(!g("*;q=0"));
    assert!(!g("gzip;q=0, *"));
    assert!(g("gzip;q=0.001"));
    assert!(!g("gzip;q=2"));
    assert!(!g("gzipx"));
    assert!(!g(""));
    assert!(!ok(&req("GET / HTTP/1.1", H)).0.accept_gzip);
    // Several fields combine.
    let b = req(
        "GET / HTTP/1.1",
        "Host: a\r\nAccept-Encoding: br\r\nAccept-Encoding: gzip\r\n",
    );
    assert!(ok(&b).0.accept_gzip);
}

#[test]
fn conditional_fields() {
    let b = req(
        "GET / HTTP/1.1",
        "Host: a\r\nIf-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\nIf-Modified-Since: d\r\nRange: bytes=0-1\r\nIf-Range: \"x\"\r\n",
    );
    let (r, _) = ok(&b);
    assert_eq!(r.if_none_match, Some(&b"\"x\""[..]));
    assert_eq!(r.headers_named(b"if-none-match").count(), 2);
    assert_eq!(r.if_modified_since, Some(&b"d"[..]));
    assert_eq!(r.range, Some(&b"bytes=0-1"[..]));
    assert_eq!(r.if_range, Some(&b"\"x\""[..]));
    // Duplicated singleton fields are ignored.
    let b = req(
        "GET / HTTP/1.1",
        "Host: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n",
    );
    assert_eq!(ok(&b).0.range, None);
    let b = req(
        "GET / HTTP/1.1",
        "Host: a\r\nIf-Modified-Since: a\r\nif-modified-since: b\r\n",
    );
    assert_eq!(ok(&b).0.if_modified_since, None);
}

#[test]
fn pipelining() {
    let two = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c";
    let (r1, n1) = ok(two);
    assert_eq!(r1.path, b"/a");
    let (r2, n2) = ok(&two[n1..]);
    assert_eq!(r2.path, b"/b");
    assert_eq!(r2.method, Method::Head);
    incomplete(&two[n1 + n2..]);
}

#[test]
fn limits() {
    let l = Limits::DEFAULT;
    // Request line too long: 414, even before the line ends.
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(l.max_request_line)
    );
    assert_eq!(err(long.as_bytes()), Error::RequestLineTooLong);
    assert_eq!(err(long.as_bytes()).status(), Status::UriTooLong);
    let partial = format!("GET /{}", "a".repeat(l.max_request_line));
    assert_eq!(err(partial.as_bytes()), Error::RequestLineTooLong);
    // Just within the limit is fine.
    let fits = format!(
        "GET /{} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(l.max_request_line - 14)
    );
    ok(fits.as_bytes());

    // Head too large: 431, without waiting for the end of the head.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "v".repeat(l.max_head_bytes)
    );
    assert_eq!(err(big.as_bytes()), Error::HeadTooLarge);
    let never_ends = format!("GET / HTTP/1.1\r\nHost: a\r\n{}", "X: y\r\n".repeat(3000));
    assert_eq!(
        err(never_ends.as_bytes()).status(),
        Status::HeaderFieldsTooLarge
    );
    let partial_line = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}",
        "v".repeat(l.max_head_bytes)
    );
    assert_eq!(err(partial_line.as_bytes()), Error::HeadTooLarge);

    // Too many fields: 431.
    let many = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: y\r\n".repeat(64));
    assert_eq!(err(many.as_bytes()), Error::TooManyHeaders);
    assert_eq!(err(many.as_bytes()).status(), Status::HeaderFieldsTooLarge);
    let max = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: y\r\n".repeat(63));
    assert_eq!(ok(max.as_bytes()).0.headers().len(), 64);
    let tight = Limits {
        max_headers: 2,
        ..Limits::DEFAULT
    };
    let three = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    assert_eq!(
        parse_request(three, &tight).unwrap_err(),
        Error::TooManyHeaders
    );
}

#[test]
fn early_rejection_of_garbage() {
    // TLS ClientHello, binary junk: refused before any line end.
    assert_eq!(
        err(b"\x16\x03\x01\x00\xa5\x01").status(),
        Status::BadRequest
    );
    assert_eq!(err(b"\x16\x03\x01"), Error::InvalidMethod);
    assert_eq!(err(b"GET /\x00"), Error::Nul);
    assert_eq!(err(b"GET /\x07"), Error::InvalidRequestLine);
    assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\nX: \x00"), Error::Nul);
}

#[test]
fn strict_prefixes_are_incomplete() {
    let full: &[u8] = b"\r\nGET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\nRange: bytes=0-10\r\n\r\n";
    for i in 0..full.len() {
        incomplete(&full[..i]);
    }
    assert_eq!(ok(full).1, full.len());
}
