//! End-to-end planning: parse → route → (fake stat) → plan, as the glue does.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tux_http::date::format_http_date;
use tux_http::parser::{parse_request, Limits, Parse, Request};
use tux_http::plan;
use tux_http::plan::{
    gz_path, index_path, needs_index, plan_error, plan_static, route, Body, Config, Lookup, Object,
    ObjectKind, ObjectMeta, Plan, Route,
};
use tux_http::status::Status;

const NOW: u64 = 1_700_000_000;
const MTIME: u64 = 1_600_000_000;

fn file(size: u64) -> ObjectMeta {
    ObjectMeta {
        size,
        mtime: MTIME,
        kind: ObjectKind::File,
        world_readable: true,
    }
}

/// A tiny fake filesystem keyed by "[host/]path".
fn stat(name: &str) -> Lookup {
    match name {
        "index.html" | "d/index.html" | "example.com/index.html" | "[2001:db8::1]/index.html" => {
            Lookup::Found(file(100))
        }
        "a.txt" | "caf\u{e9}.txt" | "%2e%2e" => Lookup::Found(file(1000)),
        "a.txt.gz" => Lookup::Found(ObjectMeta {
            size: 300,
            mtime: MTIME + 1,
            ..file(0)
        }),
        "stale.txt" => Lookup::Found(file(1000)),
        "stale.txt.gz" => Lookup::Found(ObjectMeta {
            size: 300,
            mtime: MTIME - 1,
            ..file(0)
        }),
        "empty" => Lookup::Found(file(0)),
        "" | "d" | "nodx" | "example.com" | "default" | "[2001:db8::1]" => {
            Lookup::Found(ObjectMeta {
                size: 4096,
                kind: ObjectKind::Dir,
                world_readable: name != "nodx",
                ..file(0)
            })
        }
        "secret" => Lookup::Found(ObjectMeta {
            world_readable: false,
            ..file(5)
        }),
        "dev" => Lookup::Found(ObjectMeta {
            kind: ObjectKind::Other,
            ..file(0)
        }),
        "eacces" => Lookup::Forbidden,
        _ => Lookup::NotFound,
    }
}

struct Resp {
    plan: Plan,
    head: String,
}

fn serve_with(raw: &str, cfg: &Config<'_>) -> Resp {
    let mut head = [0u8; 2048];
    let parsed = parse_request(raw.as_bytes(), &Limits::DEFAULT);
    let plan = match parsed {
        Err(e) => plan_error(None, cfg, e.status(), NOW, &mut head).unwrap(),
        Ok(Parse::Incomplete) => panic!("incomplete"),
        Ok(Parse::Complete { request, .. }) => serve_req(&request, cfg, &mut head),
    };
    Resp {
        head: String::from_utf8(head[..plan.head_len].to_vec()).unwrap(),
        plan,
    }
}

fn serve_req(req: &Request<'_>, cfg: &Config<'_>, head: &mut [u8]) -> Plan {
    let mut buf = [0u8; 4096 + 256];
    let target = match route(req, cfg, &mut buf) {
        Route::Error(s) => return plan_error(Some(req), cfg, s, NOW, head).unwrap(),
        Route::Static(t) => t,
    };
    let prefix = match target.host_dir {
        Some(h) => format!("{}/", String::from_utf8(h.to_vec()).unwrap()),
        None => String::new(),
    };
    let mut name = target.path.to_vec();
    let full = |n: &[u8]| {
        let p = format!("{prefix}{}", String::from_utf8(n.to_vec()).unwrap());
        p.trim_end_matches('/').to_string()
    };
    let mut lookup = stat(&full(&name));
    let index = needs_index(&target, &lookup);
    if index {
        let mut ib = [0u8; 4200];
        name = index_path(&name, &mut ib).unwrap().to_vec();
        lookup = stat(&full(&name));
    }
    let gzip = if target.wants_gzip {
        let mut gb = [0u8; 4200];
        match gz_path(&name, &mut gb).map(|g| stat(&full(g))) {
            Some(Lookup::Found(m)) => Some(m),
            _ => None,
        }
    } else {
        None
    };
    plan_static(
        req,
        cfg,
        &target,
        &Object {
            name: &name,
            lookup,
            index,
            gzip,
        },
        NOW,
        head,
    )
    .unwrap()
}

fn serve(raw: &str) -> Resp {
    serve_with(raw, &Config::DEFAULT)
}

fn get(path: &str, extra: &str) -> Resp {
    serve(&format!("GET {path} HTTP/1.1\r\nHost: h\r\n{extra}\r\n"))
}

fn has(r: &Resp, line: &str) -> bool {
    r.head.contains(&format!("\r\n{line}\r\n"))
}

#[test]
fn plain_get() {
    let r = get("/a.txt", "");
    assert_eq!(r.plan.status, Status::Ok);
    assert!(r.head.starts_with("HTTP/1.1 200 OK\r\nServer: tux\r\n"));
    assert!(has(&r, "Content-Type: text/plain"));
    assert!(has(&r, "Content-Length: 1000"));
    assert!(has(&r, "Accept-Ranges: bytes"));
    assert!(has(
        &r,
        &format!("Date: {}", String::from_utf8_lossy(&format_http_date(NOW)))
    ));
    assert!(has(
        &r,
        &format!(
            "Last-Modified: {}",
            String::from_utf8_lossy(&format_http_date(MTIME))
        )
    ));
    assert!(has(&r, &format!("ETag: \"{MTIME:x}-3e8\"")));
    assert!(has(&r, "Connection: keep-alive"));
    assert!(r.head.ends_with("\r\n\r\n"));
    assert_eq!(
        r.plan.body,
        Body::File {
            gzip: false,
            offset: 0,
            len: 1000
        }
    );
    assert!(r.plan.keep_alive);
    // Raw and encoded UTF-8 names.
    assert_eq!(get("/caf%C3%A9.txt", "").plan.status, Status::Ok);
    // Double encoding stays literal: `%252e%252e` is the file named `%2e%2e`.
    assert_eq!(get("/%252e%252e", "").plan.status, Status::Ok);
}

#[test]
fn head_has_no_body_but_same_length() {
    let r = serve("HEAD /a.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.plan.status, Status::Ok);
    assert!(has(&r, "Content-Length: 1000"));
    assert_eq!(r.plan.body, Body::None);
    let r = serve("HEAD /missing HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.plan.status, Status::NotFound);
    let len = Status::NotFound.error_body().unwrap().len();
    assert!(has(&r, &format!("Content-Length: {len}")));
    assert_eq!(r.plan.body, Body::None);
    // HEAD ignores Range.
    let r = serve("HEAD /a.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n");
    assert_eq!(r.plan.status, Status::Ok);
}

#[test]
fn not_found_forbidden() {
    let r = get("/missing", "");
    assert_eq!(r.plan.status, Status::NotFound);
    assert!(r.head.starts_with("HTTP/1.1 404 Not Found\r\n"));
    assert_eq!(
        r.plan.body,
        Body::Static(Status::NotFound.error_body().unwrap())
    );
    assert!(r.plan.keep_alive);
    assert_eq!(get("/secret", "").plan.status, Status::Forbidden);
    assert_eq!(get("/dev", "").plan.status, Status::Forbidden);
    assert_eq!(get("/eacces", "").plan.status, Status::Forbidden);
    assert_eq!(get("/nodx", "").plan.status, Status::Forbidden);
    assert_eq!(get("/nodx/", "").plan.status, Status::Forbidden);
    // A file requested as a directory.
    assert_eq!(get("/a.txt/", "").plan.status, Status::NotFound);
}

#[test]
fn directories() {
    let r = get("/", "");
    assert_eq!(r.plan.status, Status::Ok);
    assert!(has(&r, "Content-Type: text/html"));
    assert!(has(&r, "Content-Length: 100"));
    let r = get("/d/", "");
    assert_eq!(r.plan.status, Status::Ok);
    let r = get("/d?x=1&y=%0d%0a", "");
    assert_eq!(r.plan.status, Status::MovedPermanently);
    assert!(has(&r, "Location: /d/?x=1&y=%0d%0a"), "{}", r.head);
    assert!(matches!(r.plan.body, Body::Static(_)));
    // Never a protocol-relative redirect.
    let r = get("//d", "");
    assert_eq!(r.plan.status, Status::MovedPermanently);
    assert!(has(&r, "Location: /d/"), "{}", r.head);
    let r = get("/./d/../d", "");
    assert!(has(&r, "Location: /d/"), "{}", r.head);
}

#[test]
fn methods() {
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"] {
        let r = serve(&format!("{m} /a.txt HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert_eq!(r.plan.status, Status::MethodNotAllowed, "{m}");
        assert!(has(&r, "Allow: GET, HEAD"));
        assert!(!r.plan.keep_alive);
    }
    let r = serve("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.plan.status, Status::MethodNotAllowed);
    let r = serve("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.plan.status, Status::NotImplemented);
    assert!(!has(&r, "Allow: GET, HEAD"));
    assert_eq!(
        serve("GET * HTTP/1.1\r\nHost: h\r\n\r\n").plan.status,
        Status::BadRequest
    );
    assert_eq!(
        serve("GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n").plan.status,
        Status::BadRequest
    );
    let r = serve("POST /a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(r.plan.discard, 3);
}

#[test]
fn traversal_and_bad_paths() {
    for p in [
        "/../etc/passwd",
        "/a/../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/%2E%2E%2Fetc%2Fpasswd",
        "/.%2e/x",
        "/%c0%ae%c0%ae/etc/passwd",
        "/a%00.txt",
        "/a\\..\\b",
        "/a%5c..%5cb",
        "/a%2fb",
        "/%zz",
        "/a%0d%0aSet-Cookie:x",
    ] {
        let r = get(p, "");
        assert_eq!(r.plan.status, Status::BadRequest, "{p}");
        assert!(!r.plan.keep_alive);
        assert!(has(&r, "Connection: close"));
    }
    let long = format!("/{}", "a".repeat(300));
    assert_eq!(get(&long, "").plan.status, Status::UriTooLong);
}

#[test]
fn parse_errors_close() {
    for (raw, want) in [
        ("GET / HTTP/1.1\r\n\r\n", Status::BadRequest),
        (
            "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
            Status::VersionNotSupported,
        ),
        (
            "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            Status::NotImplemented,
        ),
        (
            "GET / HTTP/1.1\r\nHost: h\r\n x\r\n\r\n",
            Status::BadRequest,
        ),
    ] {
        let r = serve(raw);
        assert_eq!(r.plan.status, want);
        assert!(!r.plan.keep_alive);
        assert!(has(&r, "Connection: close"));
        assert!(matches!(r.plan.body, Body::Static(_)));
    }
}

#[test]
fn keep_alive_rules() {
    assert!(get("/a.txt", "").plan.keep_alive);
    assert!(!get("/a.txt", "Connection: close\r\n").plan.keep_alive);
    assert!(!serve("GET /a.txt HTTP/1.0\r\n\r\n").plan.keep_alive);
    let r = serve("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert!(r.plan.keep_alive);
    assert!(has(&r, "Connection: keep-alive"));
    let off = Config {
        keep_alive: false,
        ..Config::DEFAULT
    };
    assert!(
        !serve_with("GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\n", &off)
            .plan
            .keep_alive
    );
}

#[test]
fn conditionals() {
    let etag = format!("\"{MTIME:x}-3e8\"");
    let lm = String::from_utf8(format_http_date(MTIME).to_vec()).unwrap();
    let r = get("/a.txt", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(r.plan.status, Status::NotModified);
    assert_eq!(r.plan.body, Body::None);
    assert!(!r.head.contains("Content-Length"));
    assert!(has(&r, &format!("ETag: {etag}")));
    assert!(r.plan.keep_alive);
    assert_eq!(
        get("/a.txt", &format!("If-None-Match: W/{etag}\r\n"))
            .plan
            .status,
        Status::NotModified
    );
    assert_eq!(
        get("/a.txt", "If-None-Match: *\r\n").plan.status,
        Status::NotModified
    );
    assert_eq!(
        get("/a.txt", "If-None-Match: \"nope\", \"x\"\r\n")
            .plan
            .status,
        Status::Ok
    );
    let two = format!("If-None-Match: \"nope\"\r\nIf-None-Match: {etag}\r\n");
    assert_eq!(get("/a.txt", &two).plan.status, Status::NotModified);
    // If-Modified-Since.
    assert_eq!(
        get("/a.txt", &format!("If-Modified-Since: {lm}\r\n"))
            .plan
            .status,
        Status::NotModified
    );
    let later = String::from_utf8(format_http_date(MTIME + 10).to_vec()).unwrap();
    assert_eq!(
        get("/a.txt", &format!("If-Modified-Since: {later}\r\n"))
            .plan
            .status,
        Status::NotModified
    );
    let earlier = String::from_utf8(format_http_date(MTIME - 1).to_vec()).unwrap();
    assert_eq!(
        get("/a.txt", &format!("If-Modified-Since: {earlier}\r\n"))
            .plan
            .status,
        Status::Ok
    );
    let future = String::from_utf8(format_http_date(NOW + 100).to_vec()).unwrap();
    assert_eq!(
        get("/a.txt", &format!("If-Modified-Since: {future}\r\n"))
            .plan
            .status,
        Status::Ok
    );
    assert_eq!(
        get("/a.txt", "If-Modified-Since: yesterday\r\n")
            .plan
            .status,
        Status::Ok
    );
    // If-None-Match takes precedence over If-Modified-Since.
    let both = format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {lm}\r\n");
    assert_eq!(get("/a.txt", &both).plan.status, Status::Ok);
    // Without ETags.
    let noetag = Config {
        generate_etags: false,
        ..Config::DEFAULT
    };
    let raw = format!("GET /a.txt HTTP/1.1\r\nHost: h\r\nIf-None-Match: {etag}\r\n\r\n");
    let r = serve_with(&raw, &noetag);
    assert_eq!(r.plan.status, Status::Ok);
    assert!(!r.head.contains("ETag"));
    // 304 wins over Range.
    let r = get(
        "/a.txt",
        &format!("If-None-Match: {etag}\r\nRange: bytes=0-1\r\n"),
    );
    assert_eq!(r.plan.status, Status::NotModified);
}

#[test]
fn ranges() {
    let r = get("/a.txt", "Range: bytes=10-19\r\n");
    assert_eq!(r.plan.status, Status::PartialContent);
    assert!(has(&r, "Content-Range: bytes 10-19/1000"));
    assert!(has(&r, "Content-Length: 10"));
    assert_eq!(
        r.plan.body,
        Body::File {
            gzip: false,
            offset: 10,
            len: 10
        }
    );
    let r = get("/a.txt", "Range: bytes=-100\r\n");
    assert!(has(&r, "Content-Range: bytes 900-999/1000"));
    let r = get("/a.txt", "Range: bytes=990-\r\n");
    assert_eq!(
        r.plan.body,
        Body::File {
            gzip: false,
            offset: 990,
            len: 10
        }
    );
    let r = get("/a.txt", "Range: bytes=1000-\r\n");
    assert_eq!(r.plan.status, Status::RangeNotSatisfiable);
    assert!(has(&r, "Content-Range: bytes */1000"));
    assert!(r.plan.keep_alive);
    let r = get("/a.txt", "Range: bytes=99999999999999999999999999-\r\n");
    assert_eq!(r.plan.status, Status::RangeNotSatisfiable);
    assert_eq!(
        get("/a.txt", "Range: bytes=0-1,5-6\r\n").plan.status,
        Status::Ok
    );
    assert_eq!(
        get("/a.txt", "Range: bytes=5-1\r\n").plan.status,
        Status::Ok
    );
    assert_eq!(get("/a.txt", "Range: pages=1\r\n").plan.status, Status::Ok);
    let r = get("/empty", "Range: bytes=0-\r\n");
    assert_eq!(r.plan.status, Status::RangeNotSatisfiable);
    assert!(has(&r, "Content-Range: bytes */0"));
    let r = get("/empty", "");
    assert_eq!(r.plan.status, Status::Ok);
    assert_eq!(r.plan.body, Body::None);
    // If-Range.
    let etag = format!("\"{MTIME:x}-3e8\"");
    let r = get(
        "/a.txt",
        &format!("Range: bytes=0-0\r\nIf-Range: {etag}\r\n"),
    );
    assert_eq!(r.plan.status, Status::PartialContent);
    let r = get("/a.txt", "Range: bytes=0-0\r\nIf-Range: \"stale\"\r\n");
    assert_eq!(r.plan.status, Status::Ok);
    let lm = String::from_utf8(format_http_date(MTIME).to_vec()).unwrap();
    let r = get("/a.txt", &format!("Range: bytes=0-0\r\nIf-Range: {lm}\r\n"));
    assert_eq!(r.plan.status, Status::PartialContent);
}

#[test]
fn gzip_variant() {
    let cfg = Config {
        compression: true,
        ..Config::DEFAULT
    };
    let raw = "GET /a.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br\r\n\r\n";
    let r = serve_with(raw, &cfg);
    assert_eq!(r.plan.status, Status::Ok);
    assert!(has(&r, "Content-Encoding: gzip"));
    assert!(has(&r, "Vary: Accept-Encoding"));
    assert!(has(&r, "Content-Type: text/plain"));
    assert!(has(&r, "Content-Length: 300"));
    assert!(has(&r, &format!("ETag: \"{:x}-12c\"", MTIME + 1)));
    assert_eq!(
        r.plan.body,
        Body::File {
            gzip: true,
            offset: 0,
            len: 300
        }
    );
    // Not accepted → identity, still Vary.
    let raw = "GET /a.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip;q=0\r\n\r\n";
    let r = serve_with(raw, &cfg);
    assert!(!r.head.contains("Content-Encoding"));
    assert!(has(&r, "Vary: Accept-Encoding"));
    assert!(has(&r, "Content-Length: 1000"));
    // Compression off → never.
    let r = serve("GET /a.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n");
    assert!(!r.head.contains("Content-Encoding"));
    assert!(!r.head.contains("Vary"));
    // No .gz on disk → identity.
    let raw = "GET /index.html HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n";
    assert!(!serve_with(raw, &cfg).head.contains("Content-Encoding"));
    // A .gz older than its file is stale → identity.
    let raw = "GET /stale.txt HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n";
    let r = serve_with(raw, &cfg);
    assert!(!r.head.contains("Content-Encoding"));
    assert!(has(&r, "Content-Length: 1000"));
}

#[test]
fn virtual_hosts() {
    let cfg = Config {
        virtual_server: true,
        ..Config::DEFAULT
    };
    let r = serve_with("GET / HTTP/1.1\r\nHost: EXAMPLE.com:8080\r\n\r\n", &cfg);
    assert_eq!(r.plan.status, Status::Ok);
    let r = serve_with(
        "GET http://example.com/ HTTP/1.1\r\nHost: evil\r\n\r\n",
        &cfg,
    );
    assert_eq!(r.plan.status, Status::Ok);
    // No host → default vhost (exists, but has no index.html, hence 403
    // like nginx without autoindex); an empty Host too.
    let r = serve_with("GET / HTTP/1.0\r\n\r\n", &cfg);
    assert_eq!(r.plan.status, Status::Forbidden);
    let r = serve_with("GET / HTTP/1.1\r\nHost:\r\n\r\n", &cfg);
    assert_eq!(r.plan.status, Status::Forbidden);
    // An IPv6 literal names its directory as RFC 5952 writes the address.
    for h in [
        "[2001:db8::1]",
        "[2001:DB8:0:0::1]:8080",
        "[2001:db8:0:0:0:0:0:1]",
    ] {
        let raw = format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n");
        assert_eq!(serve_with(&raw, &cfg).plan.status, Status::Ok, "{h}");
    }
    let r = serve_with("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", &cfg);
    assert_eq!(r.plan.status, Status::NotFound);
    // Unknown vhost → 404.
    let r = serve_with("GET / HTTP/1.1\r\nHost: nope.example\r\n\r\n", &cfg);
    assert_eq!(r.plan.status, Status::NotFound);
    for h in [
        "..",
        ".hidden",
        "a..b",
        "a_b",
        "x:y",
        "[::1",
        "[v1.x]",
        "[fe80::1%25eth0]",
        "a%2fb",
    ] {
        let raw = format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n");
        assert_eq!(
            serve_with(&raw, &cfg).plan.status,
            Status::BadRequest,
            "{h}"
        );
    }
}

#[test]
fn head_buffer_too_small() {
    let b = b"GET /a.txt HTTP/1.1\r\nHost: h\r\n\r\n";
    let Ok(Parse::Complete { request, .. }) = parse_request(b, &Limits::DEFAULT) else {
        panic!()
    };
    let mut tiny = [0u8; 64];
    let obj = Object {
        name: b"a.txt",
        lookup: Lookup::Found(file(1)),
        index: false,
        gzip: None,
    };
    let mut rb = [0u8; 512];
    let Route::Static(t) = route(&request, &Config::DEFAULT, &mut rb) else {
        panic!()
    };
    assert!(plan_static(&request, &Config::DEFAULT, &t, &obj, NOW, &mut tiny).is_err());
    // A 500 always fits in 256 bytes.
    let mut small = [0u8; 256];
    let p = plan_error(
        Some(&request),
        &Config::DEFAULT,
        Status::InternalServerError,
        NOW,
        &mut small,
    );
    assert_eq!(p.unwrap().status, Status::InternalServerError);
}

#[test]
fn module_prefixes_are_canonical() {
    assert_eq!(plan::module_prefix(b"/hello"), Some(&b"/hello"[..]));
    assert_eq!(plan::module_prefix(b"/api/v1"), Some(&b"/api/v1"[..]));
    for bad in [
        &b""[..],
        b"/",
        b"/hello/",
        b"//x",
        b"/a/../b",
        b"/./a",
        b"/a%2fb",
        b"/a\\b",
        b"/a b",
        b"/a?b",
        b"/\xc3\xa9",
    ] {
        assert_eq!(plan::module_prefix(bad), None, "{:?}", bad);
    }
    assert_eq!(plan::module_prefix(&[b'a'; 300]), None);
}

#[test]
fn prefixes_cover_their_subtree_only() {
    assert!(plan::prefix_covers(b"/hello", b"hello"));
    assert!(plan::prefix_covers(b"/hello", b"hello/x/y"));
    assert!(!plan::prefix_covers(b"/hello", b"hellox"));
    assert!(!plan::prefix_covers(b"/hello", b"hell"));
    assert!(!plan::prefix_covers(b"/hello", b""));
    assert!(!plan::prefix_covers(b"/", b"anything"));
    assert!(plan::prefix_covers(b"/api/v1", b"api/v1/stats"));
    assert!(!plan::prefix_covers(b"/api/v1", b"api/v10"));
}

#[test]
fn module_paths_are_resolved_before_matching() {
    let mut buf = [0u8; 256];
    for (raw, want) in [
        (
            "GET /hel%6co/x HTTP/1.1\r\nHost: h\r\n\r\n",
            Some(&b"hello/x"[..]),
        ),
        (
            "POST /a/../hello HTTP/1.1\r\nHost: h\r\n\r\n",
            Some(b"hello"),
        ),
        ("GET /../x HTTP/1.1\r\nHost: h\r\n\r\n", None),
    ] {
        let Ok(Parse::Complete { request, .. }) = parse_request(raw.as_bytes(), &Limits::DEFAULT)
        else {
            panic!("not parsed: {raw}");
        };
        assert_eq!(plan::module_path(&request, &mut buf), want, "{raw}");
    }
}

#[test]
fn only_get_and_head_stay_in_the_kernel() {
    use tux_http::parser::Method;
    assert!(!plan::hands_off(&Method::Get));
    assert!(!plan::hands_off(&Method::Head));
    assert!(plan::hands_off(&Method::Post));
    assert!(plan::hands_off(&Method::Other(b"PROPFIND")));
}

#[test]
fn registered_mime_types_are_validated() {
    use tux_http::mime::{valid_extension, valid_type};
    assert!(valid_extension(b"md"));
    assert!(valid_extension(b"tar-gz"));
    for bad in [
        &b""[..],
        b".md",
        b"a/b",
        b"a b",
        b"abcdefghijklmnopq",
        b"\xc3\xa9",
    ] {
        assert!(!valid_extension(bad), "{bad:?}");
    }
    assert!(valid_type(b"text/markdown"));
    assert!(valid_type(b"text/plain; charset=utf-8"));
    for bad in [
        &b""[..],
        b"text",
        b"/plain",
        b"text/",
        b"text/plain\r\nX-Evil: 1",
        b"text/pl\x00ain",
        b"text/\xc3\xa9",
    ] {
        assert!(!valid_type(bad), "{bad:?}");
    }
    assert!(!valid_type(&[b'a'; 200]));
    let extra: &[(&[u8], &[u8])] = &[(b"md", b"text/markdown")];
    assert_eq!(
        tux_http::mime::content_type(b"docs/a.MD", extra),
        b"text/markdown"
    );
    assert_eq!(tux_http::mime::content_type(b"a.html", extra), b"text/html");
}

#[test]
fn generated_bodies_get_a_checked_head() {
    let raw = b"GET /server-status HTTP/1.1\r\nHost: h\r\n\r\n";
    let Ok(Parse::Complete { request, .. }) = parse_request(raw, &Limits::DEFAULT) else {
        panic!("not parsed");
    };
    let mut head = [0u8; 512];
    let p = plan::plan_generated(
        &request,
        &Config::DEFAULT,
        b"text/plain",
        42,
        NOW,
        &mut head,
    )
    .unwrap();
    let h = std::str::from_utf8(&head[..p.head_len]).unwrap();
    assert!(h.starts_with("HTTP/1.1 200 OK\r\n"), "{h}");
    assert!(h.contains("\r\nContent-Type: text/plain\r\n"), "{h}");
    assert!(h.contains("\r\nContent-Length: 42\r\n"), "{h}");
    assert!(p.keep_alive);
    // A type that could split the head is replaced.
    let p = plan::plan_generated(
        &request,
        &Config::DEFAULT,
        b"text/x\r\nA: b",
        1,
        NOW,
        &mut head,
    )
    .unwrap();
    let h = std::str::from_utf8(&head[..p.head_len]).unwrap();
    assert!(
        h.contains("\r\nContent-Type: application/octet-stream\r\n"),
        "{h}"
    );
    assert!(!h.contains("A: b"), "{h}");
}

#[test]
fn extension_routes_cover_files_with_that_extension() {
    assert_eq!(plan::module_prefix(b"*.php"), Some(&b"*.php"[..]));
    for bad in [&b"*."[..], b"*.p/x", b"*.a b", b"*php", b"*.."] {
        assert_eq!(plan::module_prefix(bad), None, "{bad:?}");
    }
    assert!(plan::prefix_covers(b"*.php", b"index.php"));
    assert!(plan::prefix_covers(b"*.php", b"a/b/INFO.PHP"));
    assert!(!plan::prefix_covers(b"*.php", b"a/b/info.php5"));
    assert!(!plan::prefix_covers(b"*.php", b"a.php/b"));
    assert!(!plan::prefix_covers(b"*.php", b".php"));
    assert!(!plan::prefix_covers(b"*.php", b"dir/.php"));
    assert!(!plan::prefix_covers(b"*.php", b""));
}

#[test]
fn special_types_are_never_content_types() {
    use tux_http::mime::{is_special, valid_type, TYPE_REDIRECT};
    assert!(valid_type(TYPE_REDIRECT));
    assert!(is_special(TYPE_REDIRECT));
    assert!(!is_special(b"text/html"));
}

#[test]
fn classic_module_names_cover_their_file_only() {
    assert_eq!(plan::module_prefix(b"hello.tux"), Some(&b"hello.tux"[..]));
    for bad in [&b".hidden"[..], b"a/b", b"a b", b"a%2f"] {
        assert!(!plan::is_module_file(bad), "{bad:?}");
    }
    assert!(plan::prefix_covers(b"hello.tux", b"hello.tux"));
    assert!(!plan::prefix_covers(b"hello.tux", b"dir/hello.tux"));
    assert!(!plan::prefix_covers(b"hello.tux", b"hello.tux/x"));
    // A URL prefix is not a module name.
    assert!(!plan::is_module_file(b"/hello"));
}
