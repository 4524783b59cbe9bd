// SPDX-License-Identifier: GPL-2.0

//! Request path → safe relative filesystem path, and Host → vhost directory.
//!
//! [`resolve_path`] percent-decodes the path one segment at a time and
//! removes dot-segments (RFC 3986 §5.2.4) *after* decoding, so `%2e%2e` is
//! `..`. A `..` that would climb above the document root is refused rather
//! than clamped. Decoding happens exactly once: `%252e` becomes the literal
//! file name `%2e`. The result never starts with `/`, never contains an
//! empty, `.` or `..` component, and contains no byte below 0x20, no 0x7f,
//! no backslash and only valid UTF-8 (which also refuses overlong forms
//! like `%c0%ae`).

use super::authority::{self, Host};
use super::cursor::{Cursor, Full};
use super::status::Status;
use core::net::IpAddr;

/// Longest single path component after decoding (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Longest host name accepted by [`vhost_dir`].
pub const HOST_MAX: usize = 253;

/// Why a request path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// `%2F` (an encoded `/`).
    EncodedSlash,
    /// A raw or encoded NUL.
    Nul,
    /// A raw or encoded backslash.
    Backslash,
    /// A raw or encoded control character (below 0x20, or 0x7f).
    ControlChar,
    /// The decoded path is not valid UTF-8.
    InvalidUtf8,
    /// A `..` segment that would climb above the root.
    Traversal,
    /// The output buffer is too small, or a component exceeds [`NAME_MAX`].
    TooLong,
}

impl PathError {
    /// The status to answer with: 414 for [`PathError::TooLong`], else 400.
    pub const fn status(self) -> Status {
        match self {
            PathError::TooLong => Status::UriTooLong,
            _ => Status::BadRequest,
        }
    }
}

/// A resolved path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved<'o> {
    /// Decoded relative path (`a/b.html`); empty for the root.
    pub path: &'o [u8],
    /// The request named a directory: it ended in `/` (or in a `.`/`..`
    /// segment), or was the root.
    pub dir: bool,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// Decodes one raw segment into `out[start..]`, returning the end offset.
fn decode_segment(seg: &[u8], out: &mut [u8], start: usize) -> Result<usize, PathError> {
    let mut w = start;
    let mut it = seg.iter();
    while let Some(&raw) = it.next() {
        let b = if raw == b'%' {
            let hi = it.next().copied().and_then(hex_val);
            let lo = it.next().copied().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => (h << 4) | l,
                _ => return Err(PathError::BadEscape),
            }
        } else {
            raw
        };
        match b {
            b'/' => return Err(PathError::EncodedSlash),
            0 => return Err(PathError::Nul),
            b'\\' => return Err(PathError::Backslash),
            0x01..=0x1f | 0x7f => return Err(PathError::ControlChar),
            _ => {}
        }
        *out.get_mut(w).ok_or(PathError::TooLong)? = b;
        w = w.checked_add(1).ok_or(PathError::TooLong)?;
    }
    if w.saturating_sub(start) > NAME_MAX {
        return Err(PathError::TooLong);
    }
    Ok(w)
}

/// Resolves the raw request path (as in [`super::parser::Request::path`],
/// without query) into `out`.
pub fn resolve_path<'o>(path: &[u8], out: &'o mut [u8]) -> Result<Resolved<'o>, PathError> {
    let rest = match path.split_first() {
        Some((b'/', rest)) => rest,
        _ => return Err(PathError::NotAbsolute),
    };
    let mut len: usize = 0;
    let mut dir = true;
    for seg in rest.split(|&b| b == b'/') {
        let start = if len == 0 {
            0
        } else {
            len.checked_add(1).ok_or(PathError::TooLong)?
        };
        let end = decode_segment(seg, out, start)?;
        let decoded = out.get(start..end).ok_or(PathError::TooLong)?;
        match decoded {
            b"" | b"." => dir = true,
            b".." => {
                dir = true;
                let kept = out.get(..len).ok_or(PathError::TooLong)?;
                len = match kept.iter().rposition(|&b| b == b'/') {
                    Some(p) => p,
                    None if len > 0 => 0,
                    None => return Err(PathError::Traversal),
                };
            }
            _ => {
                if len != 0 {
                    *out.get_mut(len).ok_or(PathError::TooLong)? = b'/';
                }
                len = end;
                dir = false;
            }
        }
    }
    let out: &'o [u8] = out;
    let path = out.get(..len).ok_or(PathError::TooLong)?;
    if core::str::from_utf8(path).is_err() {
        return Err(PathError::InvalidUtf8);
    }
    Ok(Resolved { path, dir })
}

/// Why a Host value cannot name a virtual-host directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostError {
    /// Empty host name.
    Empty,
    /// Longer than [`HOST_MAX`] or than the output buffer.
    TooLong,
    /// Not an RFC 3986 authority, or a reg-name with characters outside
    /// `[A-Za-z0-9.-]` (escapes included), a leading `.` or `..`.
    Invalid,
}

/// `a.b.c.d` or `[v6]`.
fn write_ip_dir(c: &mut Cursor<'_>, ip: IpAddr) -> Result<(), Full> {
    if ip.is_ipv6() {
        c.byte(b'[')?;
        authority::write_ip(c, ip)?;
        c.byte(b']')
    } else {
        authority::write_ip(c, ip)
    }
}

/// Turns a Host value into a lower-case directory name for
/// `docroot/<host>/`: strips `:port` and one trailing `.` of a name, and
/// refuses anything but `[a-z0-9.-]` in it (so no `/`, no leading `.`, no
/// `..`). An IPv4 address names `a.b.c.d/` (as any name), an IPv6 literal `[addr]/` with
/// the address as RFC 5952 writes it (`[2001:DB8:0::1]` is `[2001:db8::1]`),
/// an IPv4-mapped one as its IPv4 address.
pub fn vhost_dir<'o>(host: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], HostError> {
    let name = match authority::parse(host).map_err(|_| HostError::Invalid)?.host {
        Host::Ip(ip) => {
            let mut c = Cursor::new(out);
            write_ip_dir(&mut c, authority::canonical(ip)).map_err(|Full| HostError::TooLong)?;
            let n = c.len();
            return out.get(..n).ok_or(HostError::TooLong);
        }
        Host::Name(name) => name,
    };
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.is_empty() {
        return Err(HostError::Empty);
    }
    if name.len() > HOST_MAX {
        return Err(HostError::TooLong);
    }
    if name.first() == Some(&b'.') || name.windows(2).any(|w| w == b"..") {
        return Err(HostError::Invalid);
    }
    let dst = out.get_mut(..name.len()).ok_or(HostError::TooLong)?;
    for (d, &s) in dst.iter_mut().zip(name) {
        if !(s.is_ascii_alphanumeric() || s == b'-' || s == b'.') {
            return Err(HostError::Invalid);
        }
        *d = s.to_ascii_lowercase();
    }
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &[u8]) -> Result<(std::vec::Vec<u8>, bool), PathError> {
        let mut buf = [0u8; 512];
        resolve_path(p, &mut buf).map(|r| (r.path.to_vec(), r.dir))
    }

    extern crate std;

    #[test]
    fn basics() {
        assert_eq!(r(b"/"), Ok((b"".to_vec(), true)));
        assert_eq!(r(b"/a/b.html"), Ok((b"a/b.html".to_vec(), false)));
        assert_eq!(r(b"/a//b/"), Ok((b"a/b".to_vec(), true)));
        assert_eq!(r(b"/a/./b/../c"), Ok((b"a/c".to_vec(), false)));
        assert_eq!(r(b"/a/b/.."), Ok((b"a".to_vec(), true)));
        assert_eq!(r(b"/a/.."), Ok((b"".to_vec(), true)));
        assert_eq!(r(b"/%41%62c"), Ok((b"Abc".to_vec(), false)));
        assert_eq!(r(b"/caf%C3%A9"), Ok(("café".as_bytes().to_vec(), false)));
    }

    #[test]
    fn refusals() {
        assert_eq!(r(b"a"), Err(PathError::NotAbsolute));
        assert_eq!(r(b""), Err(PathError::NotAbsolute));
        assert_eq!(r(b"/.."), Err(PathError::Traversal));
        assert_eq!(r(b"/a/../.."), Err(PathError::Traversal));
        assert_eq!(r(b"/%2e%2e/etc/passwd"), Err(PathError::Traversal));
        assert_eq!(r(b"/%2E%2e"), Err(PathError::Traversal));
        assert_eq!(r(b"/a%2f..%2f..%2fetc"), Err(PathError::EncodedSlash));
        assert_eq!(r(b"/a%00b"), Err(PathError::Nul));
        assert_eq!(r(b"/a\\b"), Err(PathError::Backslash));
        assert_eq!(r(b"/a%5cb"), Err(PathError::Backslash));
        assert_eq!(r(b"/%c0%ae%c0%ae/x"), Err(PathError::InvalidUtf8));
        assert_eq!(r(b"/%zz"), Err(PathError::BadEscape));
        assert_eq!(r(b"/%4"), Err(PathError::BadEscape));
        assert_eq!(r(b"/a%0ab"), Err(PathError::ControlChar));
        assert_eq!(r(b"/a%7f"), Err(PathError::ControlChar));
    }

    #[test]
    fn double_encoding_is_literal() {
        assert_eq!(r(b"/%252e%252e/x"), Ok((b"%2e%2e/x".to_vec(), false)));
    }

    #[test]
    fn too_long() {
        let mut small = [0u8; 4];
        assert_eq!(resolve_path(b"/abcde", &mut small), Err(PathError::TooLong));
        assert_eq!(resolve_path(b"/ab/cd", &mut small), Err(PathError::TooLong));
        let mut buf = [0u8; 4];
        assert_eq!(
            resolve_path(b"/ab/c", &mut buf).map(|r| r.path.len()),
            Ok(4)
        );
        let long = [b'a'; 300];
        let mut p = std::vec::Vec::from(&b"/"[..]);
        p.extend_from_slice(&long);
        let mut big = [0u8; 1024];
        assert_eq!(resolve_path(&p, &mut big), Err(PathError::TooLong));
    }

    #[test]
    fn vhosts() {
        let mut b = [0u8; 256];
        assert_eq!(
            vhost_dir(b"Example.COM:8080", &mut b),
            Ok(&b"example.com"[..])
        );
        assert_eq!(vhost_dir(b"example.com.", &mut b), Ok(&b"example.com"[..]));
        assert_eq!(vhost_dir(b"10.0.0.1", &mut b), Ok(&b"10.0.0.1"[..]));
        assert_eq!(vhost_dir(b"[::1]:80", &mut b), Ok(&b"[::1]"[..]));
        assert_eq!(
            vhost_dir(b"[2001:DB8:0::1]", &mut b),
            Ok(&b"[2001:db8::1]"[..])
        );
        assert_eq!(
            vhost_dir(b"[::ffff:10.0.0.1]", &mut b),
            Ok(&b"10.0.0.1"[..])
        );
        assert_eq!(
            vhost_dir(b"[fe80::1%25lo]", &mut b),
            Err(HostError::Invalid)
        );
        assert_eq!(vhost_dir(b"a%2fb", &mut b), Err(HostError::Invalid));
        let mut tiny = [0u8; 4];
        assert_eq!(
            vhost_dir(b"[2001:db8::1]", &mut tiny),
            Err(HostError::TooLong)
        );
        assert_eq!(vhost_dir(b"", &mut b), Err(HostError::Empty));
        assert_eq!(vhost_dir(b":80", &mut b), Err(HostError::Empty));
        assert_eq!(vhost_dir(b"..", &mut b), Err(HostError::Invalid));
        assert_eq!(vhost_dir(b".hidden", &mut b), Err(HostError::Invalid));
        assert_eq!(vhost_dir(b"a..b", &mut b), Err(HostError::Invalid));
        assert_eq!(vhost_dir(b"a/b", &mut b), Err(HostError::Invalid));
        assert_eq!(vhost_dir(b"a_b", &mut b), Err(HostError::Invalid));
        assert_eq!(vhost_dir(b"a:x", &mut b), Err(HostError::Invalid));
        let long = [b'a'; 254];
        assert_eq!(vhost_dir(&long, &mut b), Err(HostError::TooLong));
    }
}
