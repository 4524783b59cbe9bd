//! Path resolution and vhost names: output invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
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
        assert!(d
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
    }
});
