// SPDX-License-Identifier: GPL-2.0

//! Pure HTTP helpers: the parsed request head (owned), cookies, and the
//! response head libtux writes in front of every answer. No system calls.

use crate::error::{Error, Result};
use tux_http::parser::{self, Limits, Parse};

/// The protocol version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
}

impl HttpVersion {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
        }
    }
}

/// One request header field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name as sent (a token, so ASCII).
    pub name: String,
    /// The value, without surrounding whitespace. Usually ASCII; HTTP allows
    /// other bytes (obs-text), so it is kept as bytes.
    pub value: Vec<u8>,
}

impl Field {
    /// The value as text, if it is valid UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.value).ok()
    }
}

/// A request head parsed by tux-http's parser, copied out of the raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The method token (`GET`, `POST`, ...).
    pub method: String,
    /// The raw request target (`/a/b?x=1`).
    pub target: String,
    /// The raw (percent-encoded) path of the target.
    pub path: String,
    /// The raw query after `?`, if any.
    pub query: Option<String>,
    /// The protocol version.
    pub version: HttpVersion,
    /// The effective host (absolute-form authority, else Host).
    pub host: Option<String>,
    /// Whether the client asked to keep the connection.
    pub keep_alive: bool,
    /// Content-Length, 0 without one.
    pub content_length: u64,
    /// Every header field, in order.
    pub fields: Vec<Field>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Head {
    /// Parses a raw request head (request line through the empty line), as
    /// `READ_HEADERS` returns it. A head without its final empty line is
    /// accepted too.
    pub fn parse(raw: &[u8]) -> Result<Head> {
        let limits = Limits {
            max_request_line: raw.len().max(Limits::DEFAULT.max_request_line),
            max_head_bytes: raw
                .len()
                .saturating_add(4)
                .max(Limits::DEFAULT.max_head_bytes),
            max_body: u64::MAX,
            ..Limits::DEFAULT
        };
        match parser::parse_request(raw, &limits).map_err(Error::BadHead)? {
            Parse::Complete { request, .. } => Ok(Head::from_parsed(&request)),
            Parse::Incomplete => {
                let mut v = raw.to_vec();
                v.extend_from_slice(if raw.ends_with(b"\r\n") || raw.is_empty() {
                    b"\r\n"
                } else {
                    b"\r\n\r\n"
                });
                match parser::parse_request(&v, &limits).map_err(Error::BadHead)? {
                    Parse::Complete { request, .. } => Ok(Head::from_parsed(&request)),
                    Parse::Incomplete => Err(Error::BadHead(parser::Error::InvalidRequestLine)),
                }
            }
        }
    }

    fn from_parsed(r: &parser::Request<'_>) -> Head {
        let method = match r.method {
            parser::Method::Get => "GET".to_string(),
            parser::Method::Head => "HEAD".to_string(),
            parser::Method::Post => "POST".to_string(),
            parser::Method::Put => "PUT".to_string(),
            parser::Method::Delete => "DELETE".to_string(),
            parser::Method::Options => "OPTIONS".to_string(),
            parser::Method::Trace => "TRACE".to_string(),
            parser::Method::Patch => "PATCH".to_string(),
            parser::Method::Connect => "CONNECT".to_string(),
            parser::Method::Other(t) => lossy(t),
        };
        Head {
            method,
            target: lossy(r.target),
            path: lossy(r.path),
            query: r.query.map(lossy),
            version: match r.version {
                parser::Version::Http10 => HttpVersion::Http10,
                parser::Version::Http11 => HttpVersion::Http11,
            },
            host: r.host.map(lossy),
            keep_alive: r.wants_keep_alive(),
            content_length: r.content_length,
            fields: r
                .headers()
                .map(|h| Field {
                    name: lossy(h.name),
                    value: h.value.to_vec(),
                })
                .collect(),
        }
    }

    /// The first field named `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .and_then(Field::value_str)
    }

    /// Values of every field named `name` (case-insensitive), in order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_slice())
    }

    /// Every cookie of every `Cookie` field, as `(name, value)` in order.
    pub fn cookies(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for v in self.headers_named("cookie") {
            if let Ok(s) = core::str::from_utf8(v) {
                out.extend(parse_cookies(s));
            }
        }
        out
    }

    /// The value of the first cookie named `name` (case-sensitive).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// Parses one `Cookie` field value (`a=1; b="2"`, RFC 6265 §4.2) into
/// `(name, value)` pairs; double quotes around a value are removed and
/// pairs without `=` or with an empty name are skipped.
pub fn parse_cookies(v: &str) -> impl Iterator<Item = (&str, &str)> {
    v.split(';').filter_map(|pair| {
        let (n, val) = pair.split_once('=')?;
        let n = n.trim();
        if n.is_empty() {
            return None;
        }
        let val = val.trim();
        let val = val
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(val);
        Some((n, val))
    })
}

/// The reason phrase of a status code ("" for codes without a standard one).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Whether a response with this status has no body (1xx, 204, 304).
pub fn status_has_no_body(code: u16) -> bool {
    (100..200).contains(&code) || code == 204 || code == 304
}

/// Whether `name` is an HTTP token (RFC 9110 §5.6.2).
pub fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(parser::is_tchar)
}

/// Header names libtux writes itself and refuses from modules: they decide
/// the message framing.
const FRAMING: [&str; 3] = ["content-length", "transfer-encoding", "connection"];

/// Checks one response header supplied by a module.
pub fn check_header(name: &str, value: &str) -> Result<()> {
    if !is_token(name) {
        return Err(Error::BadHeader(format!("{name:?} is not a field name")));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::BadHeader(format!(
            "{name}: control character in the value"
        )));
    }
    if FRAMING.iter().any(|f| f.eq_ignore_ascii_case(name)) {
        return Err(Error::BadHeader(format!(
            "{name}: set by libtux, not by modules"
        )));
    }
    Ok(())
}

/// What [`build_head`] writes.
#[derive(Clone, Debug)]
pub struct ResponseHead<'a> {
    /// The status code (100..=999).
    pub status: u16,
    /// The reason phrase; `None` for the standard one.
    pub reason: Option<&'a str>,
    /// Extra fields, checked with [`check_header`]. A `Date` or `Server`
    /// here replaces libtux's.
    pub headers: &'a [(&'a str, &'a str)],
    /// `Content-Length`, or `None` for a body delimited by closing the
    /// connection (which forces `Connection: close`).
    pub content_length: Option<u64>,
    /// Whether to keep the connection (`Connection: keep-alive|close`).
    pub keep_alive: bool,
    /// The `Date` value: seconds since the epoch.
    pub date: u64,
}

/// Builds an HTTP/1.1 response head ending in the empty line.
pub fn build_head(h: &ResponseHead<'_>) -> Result<Vec<u8>> {
    if !(100..=999).contains(&h.status) {
        return Err(Error::BadStatus(h.status));
    }
    let reason = h.reason.unwrap_or_else(|| reason_phrase(h.status));
    if reason
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(Error::BadHeader(
            "control character in the reason phrase".into(),
        ));
    }
    for (n, v) in h.headers {
        check_header(n, v)?;
    }
    let has = |name: &str| h.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(160 + h.headers.len() * 40);
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", h.status, reason).as_bytes());
    if !has("date") {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(&tux_http::date::format_http_date(h.date));
        out.extend_from_slice(b"\r\n");
    }
    if !has("server") {
        out.extend_from_slice(b"Server: tux\r\n");
    }
    for (n, v) in h.headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.trim().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let keep = h.keep_alive && (h.content_length.is_some() || status_has_no_body(h.status));
    if let Some(len) = h.content_length {
        if !status_has_no_body(h.status) {
            out.extend_from_slice(format!("Content-Length: {len}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(if keep {
        b"Connection: keep-alive\r\n\r\n"
    } else {
        b"Connection: close\r\n\r\n"
    });
    Ok(out)
}

/// Seconds since the epoch now (0 if the clock is before 1970).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Escapes `s` as the inside of a JSON string (RFC 8259 §7), for modules
/// that answer JSON.
pub fn json_escape(s: &str) -> String {
    use std::fmt::Write as _;
    let mut o = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"POST /api/x%20y?a=1&b=2 HTTP/1.1\r\nHost: example.org:8080\r\n\
User-Agent: t\r\nCookie: sid=abc; theme=\"dark\"\r\nX-Multi: 1\r\nx-multi: 2\r\n\
Cookie: lang=en\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n";

    #[test]
    fn parses_a_raw_head() {
        let h = Head::parse(RAW).unwrap();
        assert_eq!(h.method, "POST");
        assert_eq!(h.path, "/api/x%20y");
        assert_eq!(h.query.as_deref(), Some("a=1&b=2"));
        assert_eq!(h.target, "/api/x%20y?a=1&b=2");
        assert_eq!(h.version, HttpVersion::Http11);
        assert_eq!(h.host.as_deref(), Some("example.org:8080"));
        assert!(h.keep_alive);
        assert_eq!(h.content_length, 5);
        assert_eq!(h.header("content-TYPE"), Some("text/plain"));
        assert_eq!(h.header("user-agent"), Some("t"));
        assert_eq!(h.header("missing"), None);
        let multi: Vec<_> = h.headers_named("X-MULTI").collect();
        assert_eq!(multi, vec![&b"1"[..], &b"2"[..]]);
        assert_eq!(h.fields.len(), 8);
        assert_eq!(h.fields[0].name, "Host");
    }

    #[test]
    fn cookies_from_every_field() {
        let h = Head::parse(RAW).unwrap();
        assert_eq!(
            h.cookies(),
            vec![("sid", "abc"), ("theme", "dark"), ("lang", "en")]
        );
        assert_eq!(h.cookie("theme"), Some("dark"));
        assert_eq!(h.cookie("SID"), None);
        let v: Vec<_> = parse_cookies(" a=1;;b; =x; c = 2 ;d=").collect();
        assert_eq!(v, vec![("a", "1"), ("c", "2"), ("d", "")]);
    }

    #[test]
    fn head_without_final_empty_line_and_http10() {
        let h = Head::parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n").unwrap();
        assert_eq!(h.version, HttpVersion::Http10);
        assert!(h.keep_alive);
        let h = Head::parse(b"GET /x HTTP/1.0").unwrap();
        assert!(!h.keep_alive);
        assert_eq!(h.query, None);
        let h = Head::parse(b"GET / HTTP/1.1\nHost: a\nConnection: close\n\n").unwrap();
        assert!(!h.keep_alive);
    }

    #[test]
    fn bad_heads_are_typed_errors() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
        ] {
            let e = Head::parse(raw).unwrap_err();
            assert!(matches!(e, Error::BadHead(_)), "{raw:?}");
            assert_eq!(e.http_status(), 400);
        }
    }

    #[test]
    fn builds_a_head() {
        let h = build_head(&ResponseHead {
            status: 200,
            reason: None,
            headers: &[("Content-Type", "text/plain")],
            content_length: Some(12),
            keep_alive: true,
            date: 784111777,
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(h).unwrap(),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: tux\r\n\
Content-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn head_closes_without_length_and_obeys_keep_alive() {
        let mk = |cl, ka, status| {
            String::from_utf8(
                build_head(&ResponseHead {
                    status,
                    reason: Some("Custom"),
                    headers: &[("Server", "mine")],
                    content_length: cl,
                    keep_alive: ka,
                    date: 0,
                })
                .unwrap(),
            )
            .unwrap()
        };
        let s = mk(None, true, 200);
        assert!(s.starts_with("HTTP/1.1 200 Custom\r\n"));
        assert!(s.ends_with("Connection: close\r\n\r\n"));
        assert!(!s.contains("Content-Length"));
        assert!(s.contains("Server: mine\r\n") && !s.contains("Server: tux"));
        assert!(mk(Some(3), false, 200).contains("Content-Length: 3\r\nConnection: close\r\n\r\n"));
        let nc = mk(Some(0), true, 304);
        assert!(!nc.contains("Content-Length") && nc.ends_with("keep-alive\r\n\r\n"));
        assert!(mk(Some(0), true, 204).ends_with("keep-alive\r\n\r\n"));
    }

    #[test]
    fn refuses_injection_and_framing_headers() {
        let bad: [&[(&str, &str)]; 5] = [
            &[("X", "a\r\nSet-Cookie: evil")],
            &[("Bad Name", "x")],
            &[("", "x")],
            &[("Content-Length", "3")],
            &[("connection", "keep-alive")],
        ];
        for headers in bad {
            let r = build_head(&ResponseHead {
                status: 200,
                reason: None,
                headers,
                content_length: Some(0),
                keep_alive: true,
                date: 0,
            });
            assert!(matches!(r, Err(Error::BadHeader(_))), "{headers:?}");
        }
        let r = build_head(&ResponseHead {
            status: 42,
            reason: None,
            headers: &[],
            content_length: None,
            keep_alive: false,
            date: 0,
        });
        assert!(matches!(r, Err(Error::BadStatus(42))));
    }

    #[test]
    fn reasons() {
        assert_eq!(reason_phrase(404), "Not Found");
        assert_eq!(reason_phrase(504), "Gateway Timeout");
        assert_eq!(reason_phrase(299), "");
    }
}
