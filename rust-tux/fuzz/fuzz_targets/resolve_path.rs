//! Path resolution, vhost names and Host authorities: output invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tux_http::authority::{format_ip, parse, Host, IPV6_TEXT_MAX};
use tux_http::path::{resolve_path, vhost_dir};

fuzz_target!(|data: &[u8]| {
    // Seeds are URLs: use the path part if there is one.
    let path = match data.iter().position(|&b| b == b'/') {
        Some(i) => &data[i..],
        None => data,
    };
    let path = match path.iter().position(|&b| b == b'?') {
        Some(i) => &path[..i],
        None => path,
    };
    let mut out = [0u8; 4096];
    if let Ok(r) = resolve_path(path, &mut out) {
        let s = core::str::from_utf8(r.path).expect("valid UTF-8");
        assert!(!s.starts_with('/'));
        assert!(!s.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'\\'));
        if !s.is_empty() {
            assert!(s.split('/').all(|c| !c.is_empty() && c != "." && c != ".."));
        }
    }
    let mut small = [0u8; 16];
    let _ = resolve_path(path, &mut small);
    let mut h = [0u8; 256];
    if let Ok(d) = vhost_dir(data, &mut h) {
        assert!(!d.is_empty() && d[0] != b'.');
        assert!(!d.windows(2).any(|w| w == b".."));
        match d.strip_prefix(b"[").and_then(|d| d.strip_suffix(b"]")) {
            // An IPv6 literal's directory: the address as RFC 5952 writes it.
            Some(v6) => {
                let a: core::net::Ipv6Addr = core::str::from_utf8(v6).unwrap().parse().unwrap();
                let mut t = [0u8; IPV6_TEXT_MAX];
                let n = format_ip(core::net::IpAddr::V6(a), &mut t).unwrap();
                assert_eq!(&t[..n], v6);
            }
            None => assert!(d
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')),
        }
    }
    // Whatever parses as an authority has only RFC 3986 bytes in its name.
    if let Ok(a) = parse(data) {
        if let Host::Name(n) = a.host {
            assert!(n
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)));
        }
    }
});
