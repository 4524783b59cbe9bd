// SPDX-License-Identifier: GPL-2.0

//! ETags, conditional requests (RFC 9110 §13) and byte ranges (§14).

use super::cursor::Cursor;
use super::date::parse_http_date;
use super::parser::trim_ows;

/// Longest ETag produced: `"` + 16 hex + `-` + 16 hex + `"`.
pub const ETAG_MAX: usize = 35;

/// A strong entity tag `"<mtime hex>-<size hex>"`, as nginx makes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ETag {
    buf: [u8; ETAG_MAX],
    len: usize,
}

impl ETag {
    /// Builds the tag for a file's modification time and size.
    pub fn new(mtime: u64, size: u64) -> Self {
        let mut buf = [0u8; ETAG_MAX];
        let mut c = Cursor::new(&mut buf);
        // Cannot fail: at most 35 bytes are written.
        let _ = c
            .byte(b'"')
            .and_then(|()| c.hex(mtime))
            .and_then(|()| c.byte(b'-'))
            .and_then(|()| c.hex(size))
            .and_then(|()| c.byte(b'"'));
        let len = c.len();
        ETag { buf, len }
    }

    /// The tag including its double quotes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// One parsed entity-tag: whether weak, and the opaque-tag with quotes.
fn next_etag(s: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let (weak, s) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let body = s.strip_prefix(b"\"")?;
    let close = body.iter().position(|&b| b == b'"')?;
    let end = close.checked_add(2)?;
    let (opaque, rest) = s.split_at_checked(end)?;
    Some((weak, opaque, rest))
}

/// Whether an If-None-Match value matches `etag` under the weak comparison
/// (RFC 9110 §8.8.3.2). `*` matches any existing representation. A
/// malformed list matches nothing from the point where it is malformed.
pub fn if_none_match(value: &[u8], etag: &[u8]) -> bool {
    let value = trim_ows(value);
    if value == b"*" {
        return true;
    }
    let ours = etag.strip_prefix(b"W/").unwrap_or(etag);
    let mut s = value;
    loop {
        while let [b' ' | b'\t' | b',', rest @ ..] = s {
            s = rest;
        }
        if s.is_empty() {
            return false;
        }
        let Some((_, opaque, rest)) = next_etag(s) else {
            return false;
        };
        if opaque == ours {
            return true;
        }
        s = rest;
    }
}

/// Whether If-Modified-Since says the client's copy is current: the date
/// parses, is not in the future, and `mtime <= date`.
pub fn not_modified_since(value: &[u8], mtime: u64, now: u64) -> bool {
    match parse_http_date(value) {
        Some(date) => date <= now && mtime <= date,
        None => false,
    }
}

/// Whether an If-Range value still validates the representation: an
/// entity-tag must match `etag` strongly (weak tags never do); a date must
/// equal `mtime` exactly.
pub fn if_range(value: &[u8], etag: Option<&[u8]>, mtime: u64) -> bool {
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return match (next_etag(value), etag) {
            (Some((false, opaque, b"")), Some(ours)) => opaque == ours,
            _ => false,
        };
    }
    parse_http_date(value) == Some(mtime)
}

/// The outcome of evaluating a Range header against a length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Invalid, unsupported unit, or several ranges: send the whole file.
    Ignore,
    /// Send bytes `start..=end` with 206.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive, `< len`).
        end: u64,
    },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Parses `1*DIGIT`, saturating at `u64::MAX` (any such position is beyond
/// every representable length, which is all that matters here).
fn digits_saturating(d: &[u8]) -> Option<u64> {
    if d.is_empty() {
        return None;
    }
    d.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            Some(
                acc.saturating_mul(10)
                    .saturating_add(u64::from(b.wrapping_sub(b'0'))),
            )
        } else {
            None
        }
    })
}

/// Evaluates a Range value for a representation of `len` bytes. Only a
/// single `bytes` range is honoured (`a-b`, `a-`, `-n`); multiple ranges
/// are answered with the full representation, which RFC 9110 allows.
pub fn evaluate_range(value: &[u8], len: u64) -> RangeOutcome {
    let value = trim_ows(value);
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return RangeOutcome::Ignore;
    };
    let Some((unit, spec)) = value.split_at_checked(eq) else {
        return RangeOutcome::Ignore;
    };
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return RangeOutcome::Ignore;
    }
    let spec = trim_ows(spec.get(1..).unwrap_or(&[]));
    if spec.contains(&b',') {
        return RangeOutcome::Ignore;
    }
    let Some(dash) = spec.iter().position(|&b| b == b'-') else {
        return RangeOutcome::Ignore;
    };
    let Some((first, last)) = spec.split_at_checked(dash) else {
        return RangeOutcome::Ignore;
    };
    let last = last.get(1..).unwrap_or(&[]);
    let Some(last_byte) = len.checked_sub(1) else {
        // Nothing of an empty representation can be satisfied.
        return match (first.is_empty(), last.is_empty()) {
            (true, true) => RangeOutcome::Ignore,
            _ if valid_spec(first, last) => RangeOutcome::Unsatisfiable,
            _ => RangeOutcome::Ignore,
        };
    };
    match (digits_saturating(first), first.is_empty(), last.is_empty()) {
        // -suffix
        (None, true, false) => match digits_saturating(last) {
            Some(0) => RangeOutcome::Unsatisfiable,
            Some(n) => RangeOutcome::Partial {
                start: len.saturating_sub(n),
                end: last_byte,
            },
            None => RangeOutcome::Ignore,
        },
        // a-
        (Some(a), _, true) => {
            if a > last_byte {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Partial {
                    start: a,
                    end: last_byte,
                }
            }
        }
        // a-b
        (Some(a), _, false) => match digits_saturating(last) {
            Some(b) if b < a => RangeOutcome::Ignore,
            Some(_) if a > last_byte => RangeOutcome::Unsatisfiable,
            Some(b) => RangeOutcome::Partial {
                start: a,
                end: b.min(last_byte),
            },
            None => RangeOutcome::Ignore,
        },
        _ => RangeOutcome::Ignore,
    }
}

fn valid_spec(first: &[u8], last: &[u8]) -> bool {
    let f = digits_saturating(first);
    let l = digits_saturating(last);
    match (f, l) {
        (Some(a), Some(b)) => b >= a,
        (Some(_), None) => last.is_empty(),
        (None, Some(_)) => first.is_empty(),
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeOutcome::*;

    #[test]
    fn etag_format() {
        assert_eq!(ETag::new(0x5f5e100, 0x1234).as_bytes(), b"\"5f5e100-1234\"");
        assert_eq!(ETag::new(0, 0).as_bytes(), b"\"0-0\"");
        assert_eq!(
            ETag::new(u64::MAX, u64::MAX).as_bytes(),
            b"\"ffffffffffffffff-ffffffffffffffff\""
        );
    }

    #[test]
    fn inm() {
        let e = b"\"abc-1\"";
        assert!(if_none_match(b"*", e));
        assert!(if_none_match(b"\"abc-1\"", e));
        assert!(if_none_match(b"W/\"abc-1\"", e));
        assert!(if_none_match(b"\"x\", W/\"abc-1\"", e));
        assert!(if_none_match(b" \"x\" ,,\"abc-1\" ", e));
        assert!(!if_none_match(b"\"abc-2\"", e));
        assert!(!if_none_match(b"abc-1", e));
        assert!(!if_none_match(b"\"abc-1", e));
        assert!(!if_none_match(b"", e));
    }

    #[test]
    fn ims() {
        let d = b"Sun, 06 Nov 1994 08:49:37 GMT";
        assert!(not_modified_since(d, 784_111_777, 784_111_777));
        assert!(not_modified_since(d, 784_111_000, 800_000_000));
        assert!(!not_modified_since(d, 784_111_778, 800_000_000));
        // A date in the future is ignored.
        assert!(!not_modified_since(d, 0, 700_000_000));
        assert!(!not_modified_since(b"garbage", 0, 800_000_000));
    }

    #[test]
    fn if_range_checks() {
        let e = &b"\"a-1\""[..];
        assert!(if_range(b"\"a-1\"", Some(e), 5));
        assert!(!if_range(b"W/\"a-1\"", Some(e), 5));
        assert!(!if_range(b"\"a-2\"", Some(e), 5));
        assert!(!if_range(b"\"a-1\"", None, 5));
        assert!(if_range(b"Thu, 01 Jan 1970 00:00:05 GMT", Some(e), 5));
        assert!(!if_range(b"Thu, 01 Jan 1970 00:00:06 GMT", Some(e), 5));
        assert!(!if_range(b"junk", Some(e), 5));
    }

    #[test]
    fn ranges() {
        assert_eq!(
            evaluate_range(b"bytes=0-499", 1000),
            Partial { start: 0, end: 499 }
        );
        assert_eq!(
            evaluate_range(b"bytes=500-", 1000),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            evaluate_range(b"bytes=-200", 1000),
            Partial {
                start: 800,
                end: 999
            }
        );
        assert_eq!(
            evaluate_range(b"bytes=-2000", 1000),
            Partial { start: 0, end: 999 }
        );
        assert_eq!(
            evaluate_range(b"bytes=0-5000", 1000),
            Partial { start: 0, end: 999 }
        );
        assert_eq!(evaluate_range(b"BYTES = 1-1", 1000), Ignore);
        assert_eq!(
            evaluate_range(b"Bytes=1-1", 1000),
            Partial { start: 1, end: 1 }
        );
        assert_eq!(evaluate_range(b"bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=1000-2000", 1000), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=-0", 1000), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=5-1", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes=0-1,5-6", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes=-", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes=a-b", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes=1-2-3", 1000), Ignore);
        assert_eq!(evaluate_range(b"items=0-1", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes 0-1", 1000), Ignore);
        assert_eq!(evaluate_range(b"bytes=+1-2", 1000), Ignore);
        // Empty representation.
        assert_eq!(evaluate_range(b"bytes=0-", 0), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=-5", 0), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=0-0", 0), Unsatisfiable);
        assert_eq!(evaluate_range(b"bytes=5-1", 0), Ignore);
        // Overflow.
        let huge = b"bytes=99999999999999999999999-";
        assert_eq!(evaluate_range(huge, u64::MAX), Unsatisfiable);
        assert_eq!(
            evaluate_range(b"bytes=0-99999999999999999999999", 10),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            evaluate_range(b"bytes=-99999999999999999999999", 10),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            evaluate_range(b"bytes=18446744073709551614-", u64::MAX),
            Partial {
                start: u64::MAX - 1,
                end: u64::MAX - 1
            }
        );
    }
}
