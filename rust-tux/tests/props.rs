//! Property tests: totality, prefix consistency and output invariants.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use proptest::prelude::*;
use tux_http::authority::{format_ip, parse as parse_authority, Host, IPV6_TEXT_MAX};
use tux_http::cond::{evaluate_range, RangeOutcome};
use tux_http::date::{format_http_date, parse_http_date, MAX_DATE};
use tux_http::parser::{parse_request, Limits, Parse};
use tux_http::path::{resolve_path, vhost_dir};
use tux_http::plan::{
    plan_error, plan_static, route, Config, Lookup, Object, ObjectKind, ObjectMeta, Route,
};
use tux_http::response::{write_head, Location, ResponseHead};
use tux_http::status::Status;

fn cfg(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes drawn mostly from HTTP-significant characters.
fn http_ish() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"GET ".to_vec()),
        Just(b"HEAD ".to_vec()),
        Just(b" HTTP/1.1".to_vec()),
        Just(b" HTTP/1.0".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"Host: a".to_vec()),
        Just(b"Content-Length: 5".to_vec()),
        Just(b"Transfer-Encoding: chunked".to_vec()),
        Just(b"Range: bytes=0-1".to_vec()),
        Just(b": ".to_vec()),
        Just(b"/".to_vec()),
        Just(b"%2e".to_vec()),
        Just(b"..".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn check_plan_total(buf: &[u8]) {
    let mut head = [0u8; 8192];
    match parse_request(buf, &Limits::DEFAULT) {
        Err(e) => {
            let p = plan_error(None, &Config::DEFAULT, e.status(), 0, &mut head).unwrap();
            assert!(!p.keep_alive);
        }
        Ok(Parse::Incomplete) => {}
        Ok(Parse::Complete { request, consumed }) => {
            assert!(consumed <= buf.len());
            let cfgs = [
                Config::DEFAULT,
                Config {
                    virtual_server: true,
                    compression: true,
                    ..Config::DEFAULT
                },
            ];
            for c in &cfgs {
                let mut rb = [0u8; 4096 + 256];
                match route(&request, c, &mut rb) {
                    Route::Error(s) => {
                        plan_error(Some(&request), c, s, 0, &mut head).unwrap();
                    }
                    Route::Static(t) => {
                        assert!(!t.path.starts_with(b"/"));
                        for kind in [ObjectKind::File, ObjectKind::Dir] {
                            let m = ObjectMeta {
                                size: 10,
                                mtime: 5,
                                kind,
                                world_readable: true,
                            };
                            let obj = Object {
                                name: t.path,
                                lookup: Lookup::Found(m),
                                index: false,
                                gzip: Some(m),
                            };
                            // A head too large for the buffer (a 301 to a very long
                            // path) is answered 500 by the glue: that must fit.
                            let Ok(p) = plan_static(&request, c, &t, &obj, 100, &mut head) else {
                                plan_error(
                                    None,
                                    c,
                                    Status::InternalServerError,
                                    0,
                                    &mut head[..1024],
                                )
                                .unwrap();
                                continue;
                            };
                            let h = &head[..p.head_len];
                            assert_head_well_formed(h);
                        }
                    }
                }
            }
        }
    }
}

fn assert_head_well_formed(h: &[u8]) {
    assert!(h.ends_with(b"\r\n\r\n"));
    let body = &h[..h.len() - 2];
    for line in body.split_inclusive(|&b| b == b'\n') {
        let line = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("bare LF in {h:?}"));
        assert!(!line.is_empty());
        assert!(
            line.iter()
                .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)),
            "{line:?}"
        );
    }
}

proptest! {
    #![proptest_config(cfg(2000))]

    #[test]
    fn parser_total_on_bytes(buf in prop::collection::vec(any::<u8>(), 0..300)) {
        check_plan_total(&buf);
    }

    #[test]
    fn parser_total_on_http_ish(buf in http_ish()) {
        check_plan_total(&buf);
    }
}

/// A valid request and its parts.
fn valid_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "HEAD", "POST", "BREW"]);
    let path = "(/[a-zA-Z0-9._~%-]{0,12}){1,4}(\\?[a-z=&]{0,10})?";
    let version = prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]);
    let name = "[A-Za-z][A-Za-z0-9!#$&'*+.^_`|~-]{0,15}";
    let value = "[ -~\t]{0,30}";
    let eol = prop::sample::select(vec!["\r\n", "\n"]);
    let headers = prop::collection::vec((name, value, eol.clone()), 0..8);
    let empties = prop::collection::vec(eol.clone(), 0..3);
    (empties, method, path, version, headers, eol).prop_map(|(em, m, p, v, hs, end)| {
        let mut s = em.concat();
        s.push_str(&format!("{m} {p} {v}\r\nHost: example.com\r\n"));
        for (n, val, e) in hs {
            let n = if ["host", "content-length", "transfer-encoding"]
                .contains(&n.to_ascii_lowercase().as_str())
            {
                format!("X-{n}")
            } else {
                n
            };
            s.push_str(&format!("{n}: {}{e}", val.trim_matches([' ', '\t'])));
        }
        s.push_str(end);
        s.into_bytes()
    })
}

proptest! {
    #![proptest_config(cfg(300))]

    #[test]
    fn strict_prefixes_incomplete(req in valid_request(), tail in prop::collection::vec(any::<u8>(), 0..10)) {
        for i in 0..req.len() {
            let r = parse_request(&req[..i], &Limits::DEFAULT);
            prop_assert!(matches!(r, Ok(Parse::Incomplete)), "prefix {i} of {:?}: {r:?}", String::from_utf8_lossy(&req));
        }
        let mut full = req.clone();
        full.extend_from_slice(&tail);
        match parse_request(&full, &Limits::DEFAULT) {
            Ok(Parse::Complete { consumed, .. }) => prop_assert_eq!(consumed, req.len()),
            other => prop_assert!(false, "{:?}: {other:?}", String::from_utf8_lossy(&req)),
        }
    }
}

fn path_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"/".to_vec()),
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(b"%2e".to_vec()),
        Just(b"%2E".to_vec()),
        Just(b"%2f".to_vec()),
        Just(b"%25".to_vec()),
        Just(b"%00".to_vec()),
        Just(b"%c0%ae".to_vec()),
        Just(b"%c3%a9".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"a".to_vec()),
        Just(b"b.txt".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(atoms, 0..24).prop_map(|v| {
        let mut p = b"/".to_vec();
        p.extend(v.concat());
        p
    })
}

proptest! {
    #![proptest_config(cfg(3000))]

    #[test]
    fn resolved_paths_are_safe(p in path_bytes()) {
        let mut out = [0u8; 512];
        if let Ok(r) = resolve_path(&p, &mut out) {
            let s = core::str::from_utf8(r.path).unwrap();
            prop_assert!(!s.starts_with('/'));
            prop_assert!(!s.contains('\\'));
            prop_assert!(!s.bytes().any(|b| b < 0x20 || b == 0x7f));
            if !s.is_empty() {
                for comp in s.split('/') {
                    prop_assert!(!comp.is_empty() && comp != "." && comp != "..", "{s:?}");
                }
            }
        }
    }

    #[test]
    fn resolve_total_on_bytes(p in prop::collection::vec(any::<u8>(), 0..200), n in 0usize..300) {
        let mut out = vec![0u8; n];
        let _ = resolve_path(&p, &mut out);
        let _ = vhost_dir(&p, &mut out);
    }

    #[test]
    fn vhost_dirs_are_safe(h in "[A-Za-z0-9.:_/\\[\\]-]{0,20}") {
        let mut out = [0u8; 256];
        if let Ok(d) = vhost_dir(h.as_bytes(), &mut out) {
            let d = core::str::from_utf8(d).unwrap();
            prop_assert!(!d.is_empty() && !d.starts_with('.') && !d.contains(".."));
            if let Some(v6) = d.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
                // An IPv6 literal: its address, as RFC 5952 writes it.
                let a: std::net::Ipv6Addr = v6.parse().unwrap();
                prop_assert_eq!(a.to_string(), v6);
                prop_assert!(a.to_ipv4_mapped().is_none());
            } else {
                prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
            }
        }
    }

    #[test]
    fn ipv6_literals_name_one_directory(groups in prop::array::uniform8(prop_oneof![Just(0u16), Just(1), any::<u16>()]), port in prop::option::of(any::<u16>()), upper in any::<bool>()) {
        // Every spelling of an address (full, compressed, upper case) names
        // the same directory.
        let a = std::net::Ipv6Addr::from(groups);
        let full = groups.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
        let mut dirs = Vec::new();
        for text in [full, a.to_string()] {
            let text = if upper { text.to_uppercase() } else { text };
            let host = match port {
                Some(p) => format!("[{text}]:{p}"),
                None => format!("[{text}]"),
            };
            let mut out = [0u8; 64];
            dirs.push(vhost_dir(host.as_bytes(), &mut out).map(|d| d.to_vec()));
        }
        prop_assert_eq!(&dirs[0], &dirs[1]);
        let d = String::from_utf8(dirs[0].clone().unwrap()).unwrap();
        let want = match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!("[{a}]"),
        };
        prop_assert_eq!(d, want);
    }

    #[test]
    fn authority_total(v in prop::collection::vec(prop_oneof![Just(b'['), Just(b']'), Just(b':'), Just(b'%'), Just(b'.'), any::<u8>(), 0x30u8..0x3a, 0x61u8..0x67], 0..60)) {
        // Never panics; what it accepts is an RFC 3986 authority.
        if let Ok(a) = parse_authority(&v) {
            match a.host {
                Host::Name(n) => prop_assert!(n.iter().all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b))),
                Host::Ip(std::net::IpAddr::V6(_)) => prop_assert!(v.first() == Some(&b'[')),
                Host::Ip(std::net::IpAddr::V4(_)) => prop_assert!(false, "IPv4 text is a name"),
            }
        }
        let mut out = [0u8; 64];
        let _ = vhost_dir(&v, &mut out);
    }

    #[test]
    fn ip_text_round_trips(b in prop::array::uniform16(prop_oneof![Just(0u8), any::<u8>()]), v4 in any::<[u8; 4]>()) {
        for ip in [std::net::IpAddr::from(b), std::net::IpAddr::from(v4)] {
            let mut out = [0u8; IPV6_TEXT_MAX];
            let n = format_ip(ip, &mut out).unwrap();
            let text = core::str::from_utf8(&out[..n]).unwrap();
            prop_assert_eq!(text, text.to_lowercase());
            let back: std::net::IpAddr = text.parse().unwrap();
            prop_assert_eq!(back, tux_http::authority::canonical(ip));
        }
    }

    #[test]
    fn date_round_trip(t in 0u64..=MAX_DATE) {
        let f = format_http_date(t);
        prop_assert_eq!(parse_http_date(&f), Some(t));
    }

    #[test]
    fn date_parse_total(s in prop::collection::vec(any::<u8>(), 0..40), t in any::<u64>()) {
        let _ = parse_http_date(&s);
        let f = format_http_date(t);
        prop_assert_eq!(f.len(), 29);
        prop_assert!(f.iter().all(u8::is_ascii));
    }

    #[test]
    fn ranges_in_bounds(spec in "(bytes|BYTES|x)=[0-9 ,-]{0,30}", len in prop_oneof![Just(0u64), Just(1), 0u64..5000, Just(u64::MAX)]) {
        match evaluate_range(spec.as_bytes(), len) {
            RangeOutcome::Partial { start, end } => prop_assert!(start <= end && end < len),
            RangeOutcome::Unsatisfiable | RangeOutcome::Ignore => {}
        }
    }

    #[test]
    fn location_never_injects(path in prop::collection::vec(any::<u8>(), 0..40), query in prop::option::of(prop::collection::vec(any::<u8>(), 0..40))) {
        let mut h = ResponseHead::new(Status::MovedPermanently, 0, true);
        h.location = Some(Location { path: &path, query: query.as_deref() });
        let mut buf = [0u8; 1024];
        let n = write_head(&h, &mut buf).unwrap();
        assert_head_well_formed(&buf[..n]);
    }
}

/// Every seed of the h2o corpus (shipped in `fuzz/corpus`) must be handled
/// without panics, request by request as a pipelined stream.
#[test]
fn h2o_corpus_never_panics() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/parse_request");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("corpus not found at {dir}; skipped");
        return;
    };
    let mut files = 0;
    for e in entries {
        let data = std::fs::read(e.unwrap().path()).unwrap();
        files += 1;
        let mut rest = &data[..];
        for _ in 0..64 {
            check_plan_total(rest);
            match parse_request(rest, &Limits::DEFAULT) {
                Ok(Parse::Complete { consumed, .. }) if consumed > 0 => rest = &rest[consumed..],
                _ => break,
            }
        }
    }
    assert!(files > 0);
}

/// Requests for `path` with every kind of condition, range and encoding.
fn conditional_request(path: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "HEAD"]);
    let extra = prop::sample::subsequence(
        vec![
            "Accept-Encoding: gzip\r\n",
            "If-None-Match: \"5-a\"\r\n",
            "If-None-Match: *\r\n",
            "If-Modified-Since: Thu, 01 Jan 1970 00:00:05 GMT\r\n",
            "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n",
            "Range: bytes=0-3\r\n",
            "Range: bytes=50-60\r\n",
            "If-Range: \"5-a\"\r\n",
            "Connection: close\r\n",
        ],
        0..4,
    );
    let version = prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]);
    (method, version, extra).prop_map(move |(m, v, e)| {
        format!("{m} {path} {v}\r\nHost: a\r\n{}\r\n", e.concat()).into_bytes()
    })
}

/// Two requests for the same file.
fn conditional_pair() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    prop::sample::select(vec!["/a.css", "/b.html", "/c", "/d.tar.gz"])
        .prop_flat_map(|p| (conditional_request(p), conditional_request(p)))
}

/// Fields a plan reported as formatted afresh, and the state they describe.
type Fresh = Option<(tux_http::plan::FieldsKey, Vec<u8>)>;

/// Plans `buf` for a file of `size` bytes and `mtime`, with `cached` fields;
/// returns the plan, the head and the fresh fields it reports.
fn plan_cached(
    buf: &[u8],
    size: u64,
    mtime: u64,
    cached: Option<(tux_http::plan::FieldsKey, &[u8])>,
) -> (tux_http::plan::Plan, Vec<u8>, Fresh) {
    let Ok(Parse::Complete { request, .. }) = parse_request(buf, &Limits::DEFAULT) else {
        panic!("not a request: {buf:?}");
    };
    let c = Config {
        compression: true,
        ..Config::DEFAULT
    };
    let mut rb = [0u8; 4096 + 256];
    let Route::Static(t) = route(&request, &c, &mut rb) else {
        panic!("not routed: {buf:?}");
    };
    let m = ObjectMeta {
        size,
        mtime,
        kind: ObjectKind::File,
        world_readable: true,
    };
    let gz = ObjectMeta {
        size: size / 2,
        ..m
    };
    let obj = Object {
        name: t.path,
        lookup: Lookup::Found(m),
        index: false,
        gzip: Some(gz),
    };
    let mut fields = tux_http::plan::HeadFields {
        cached,
        fresh: None,
    };
    let mut head = [0u8; 2048];
    let p = tux_http::plan::plan_static_with(&request, &c, &t, &obj, 100, &mut head, &mut fields)
        .unwrap();
    let fresh = fields.fresh.map(|(k, r)| (k, head[r].to_vec()));
    (p, head[..p.head_len].to_vec(), fresh)
}

proptest! {
    #![proptest_config(cfg(1000))]

    /// Fields formatted for one request of a file and reused for another of the same
    /// file give the head a fresh plan gives, whatever the second request asks and
    /// whether the file changed in between (then they must not be used).
    #[test]
    fn cached_fields_change_nothing(
        (first, second) in conditional_pair(),
        changed in prop::sample::select(vec![(10u64, 5u64), (10, 6), (11, 5)]),
    ) {
        let (_, _, fresh) = plan_cached(&first, 10, 5, None);
        let (size, mtime) = changed;
        let (want, want_head, _) = plan_cached(&second, size, mtime, None);
        let cached = fresh.as_ref().map(|(k, b)| (*k, b.as_slice()));
        let (got, got_head, _) = plan_cached(&second, size, mtime, cached);
        prop_assert_eq!(got, want);
        prop_assert_eq!(
            String::from_utf8_lossy(&got_head),
            String::from_utf8_lossy(&want_head)
        );
    }
}
