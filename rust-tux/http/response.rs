// SPDX-License-Identifier: GPL-2.0

//! Response head serialisation into a caller buffer.
//!
//! Every value that could carry client bytes (`Location`) is
//! percent-encoded here, so a response head can never contain a CR, LF or
//! other control byte that was not put there by this module.

use super::cursor::Cursor;
use super::date::{format_http_date, Now};
use super::status::Status;

/// The head does not fit into the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadTooLarge;

/// A `Content-Range` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes start-end/len`.
    Bytes {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
        /// Complete length.
        len: u64,
    },
    /// `bytes */len` (with 416).
    Unsatisfied {
        /// Complete length.
        len: u64,
    },
}

/// A redirect target `/<path>/[?query]`, built from a resolved path so it
/// is always a safe absolute path (never `//host`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location<'a> {
    /// Decoded relative path from [`super::path::resolve_path`].
    pub path: &'a [u8],
    /// Raw query to preserve, if any.
    pub query: Option<&'a [u8]>,
}

/// Everything that goes into a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// The status.
    pub status: Status,
    /// Current time for `Date`.
    pub date: Now,
    /// `Content-Type`.
    pub content_type: Option<&'a [u8]>,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Last-Modified`, seconds since the epoch.
    pub last_modified: Option<u64>,
    /// `ETag` (already quoted).
    pub etag: Option<&'a [u8]>,
    /// Send `Accept-Ranges: bytes`.
    pub accept_ranges: bool,
    /// `Content-Range`.
    pub content_range: Option<ContentRange>,
    /// Send `Content-Encoding: gzip`.
    pub gzip: bool,
    /// Send `Vary: Accept-Encoding`.
    pub vary_accept_encoding: bool,
    /// `Location`.
    pub location: Option<Location<'a>>,
    /// Send `Allow: GET, HEAD`.
    pub allow: bool,
    /// `Connection: keep-alive` if true, else `Connection: close`.
    pub keep_alive: bool,
}

impl<'a> ResponseHead<'a> {
    /// A head with only status, date and connection set.
    pub fn new(status: Status, date: impl Into<Now>, keep_alive: bool) -> Self {
        ResponseHead {
            status,
            date: date.into(),
            content_type: None,
            content_length: None,
            last_modified: None,
            etag: None,
            accept_ranges: false,
            content_range: None,
            gzip: false,
            vary_accept_encoding: false,
            location: None,
            allow: false,
            keep_alive,
        }
    }
}

/// Characters left as-is in a Location path: unreserved, sub-delims, `:@/`.
fn path_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

/// Characters left as-is in a Location query.
fn query_safe(b: u8) -> bool {
    b.is_ascii_graphic() && !b"#\"<>\\^`{|}".contains(&b)
}

fn field(c: &mut Cursor<'_>, name: &[u8], value: &[u8]) -> Result<(), super::cursor::Full> {
    c.put(name)?;
    c.put(b": ")?;
    c.put(value)?;
    c.put(b"\r\n")
}

/// Status line, `Server` and `Date`.
fn write_start(h: &ResponseHead<'_>, c: &mut Cursor<'_>) -> Result<(), super::cursor::Full> {
    c.put(b"HTTP/1.1 ")?;
    c.put(h.status.line())?;
    c.put(b"\r\nServer: tux\r\n")?;
    field(c, b"Date", h.date.text())
}

/// The fields that describe the body: what [`write_object_fields`] writes.
fn write_fields(h: &ResponseHead<'_>, c: &mut Cursor<'_>) -> Result<(), super::cursor::Full> {
    if let Some(t) = h.content_type {
        if t.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            field(c, b"Content-Type", t)?;
        }
    }
    if let Some(n) = h.content_length {
        c.put(b"Content-Length: ")?;
        c.dec(n)?;
        c.put(b"\r\n")?;
    }
    if let Some(t) = h.last_modified {
        field(c, b"Last-Modified", &format_http_date(t))?;
    }
    if let Some(e) = h.etag {
        if e.iter().all(u8::is_ascii_graphic) {
            field(c, b"ETag", e)?;
        }
    }
    if h.accept_ranges {
        c.put(b"Accept-Ranges: bytes\r\n")?;
    }
    match h.content_range {
        Some(ContentRange::Bytes { start, end, len }) => {
            c.put(b"Content-Range: bytes ")?;
            c.dec(start)?;
            c.byte(b'-')?;
            c.dec(end)?;
            c.byte(b'/')?;
            c.dec(len)?;
            c.put(b"\r\n")?;
        }
        Some(ContentRange::Unsatisfied { len }) => {
            c.put(b"Content-Range: bytes */")?;
            c.dec(len)?;
            c.put(b"\r\n")?;
        }
        None => {}
    }
    if h.gzip {
        c.put(b"Content-Encoding: gzip\r\n")?;
    }
    if h.vary_accept_encoding {
        c.put(b"Vary: Accept-Encoding\r\n")?;
    }
    Ok(())
}

/// `Location`, `Allow`, `Connection` and the empty line.
fn write_end(h: &ResponseHead<'_>, c: &mut Cursor<'_>) -> Result<(), super::cursor::Full> {
    if let Some(loc) = h.location {
        c.put(b"Location: /")?;
        for &b in loc.path {
            if path_safe(b) {
                c.byte(b)?;
            } else {
                c.pct(b)?;
            }
        }
        if !loc.path.is_empty() {
            c.byte(b'/')?;
        }
        if let Some(q) = loc.query {
            c.byte(b'?')?;
            for &b in q {
                if query_safe(b) {
                    c.byte(b)?;
                } else {
                    c.pct(b)?;
                }
            }
        }
        c.put(b"\r\n")?;
    }
    if h.allow {
        c.put(b"Allow: GET, HEAD\r\n")?;
    }
    if h.keep_alive {
        c.put(b"Connection: keep-alive\r\n")?;
    } else {
        c.put(b"Connection: close\r\n")?;
    }
    c.put(b"\r\n")
}

/// Writes the head (status line, fields, empty line) into `out` and
/// returns its length.
pub fn write_head(h: &ResponseHead<'_>, out: &mut [u8]) -> Result<usize, HeadTooLarge> {
    write_head_parts(h, out).map(|(len, _)| len)
}

/// Writes the head as [`write_head`] does; also returns where, in `out`, the
/// fields that describe the body are (what [`write_object_fields`] writes).
pub fn write_head_parts(
    h: &ResponseHead<'_>,
    out: &mut [u8],
) -> Result<(usize, core::ops::Range<usize>), HeadTooLarge> {
    let mut c = Cursor::new(out);
    write_start(h, &mut c).map_err(|_| HeadTooLarge)?;
    let start = c.len();
    write_fields(h, &mut c).map_err(|_| HeadTooLarge)?;
    let end = c.len();
    write_end(h, &mut c).map_err(|_| HeadTooLarge)?;
    Ok((c.len(), start..end))
}

/// Writes the fields that describe the body (`Content-Type` to `Vary`): for a
/// given object, status and configuration they do not change from one
/// request to the next, so they can be formatted once and reused with
/// [`write_head_with_fields`].
pub fn write_object_fields(h: &ResponseHead<'_>, out: &mut [u8]) -> Result<usize, HeadTooLarge> {
    let mut c = Cursor::new(out);
    write_fields(h, &mut c).map_err(|_| HeadTooLarge)?;
    Ok(c.len())
}

/// Writes the head of `h` with `fields` in place of the fields that describe
/// the body. With the bytes [`write_object_fields`] (or the range
/// [`write_head_parts`] reports) gave for a head with the same such fields,
/// the result is what [`write_head`] writes. Only the status line, `Date`
/// and the connection's fields are formatted.
pub fn write_head_with_fields(
    h: &ResponseHead<'_>,
    fields: &[u8],
    out: &mut [u8],
) -> Result<usize, HeadTooLarge> {
    let mut c = Cursor::new(out);
    write_start(h, &mut c).map_err(|_| HeadTooLarge)?;
    c.put(fields).map_err(|_| HeadTooLarge)?;
    write_end(h, &mut c).map_err(|_| HeadTooLarge)?;
    Ok(c.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    fn s(h: &ResponseHead<'_>) -> std::string::String {
        let mut buf = [0u8; 1024];
        let n = write_head(h, &mut buf).unwrap();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn full_head() {
        let mut h = ResponseHead::new(Status::PartialContent, 784_111_777, true);
        h.content_type = Some(b"text/html");
        h.content_length = Some(10);
        h.last_modified = Some(0);
        h.etag = Some(b"\"1-2\"");
        h.accept_ranges = true;
        h.content_range = Some(ContentRange::Bytes {
            start: 0,
            end: 9,
            len: 100,
        });
        h.gzip = true;
        h.vary_accept_encoding = true;
        assert_eq!(
            s(&h),
            "HTTP/1.1 206 Partial Content\r\nServer: tux\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/html\r\n\
             Content-Length: 10\r\nLast-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             ETag: \"1-2\"\r\nAccept-Ranges: bytes\r\nContent-Range: bytes 0-9/100\r\n\
             Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n\
             Connection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn location_is_encoded() {
        let mut h = ResponseHead::new(Status::MovedPermanently, 0, false);
        h.location = Some(Location {
            path: "a b/\r\n%é".as_bytes(),
            query: Some(b"x=1&y=\r\n"),
        });
        h.allow = true;
        let out = s(&h);
        assert!(
            out.contains("Location: /a%20b/%0D%0A%25%C3%A9/?x=1&y=%0D%0A\r\n"),
            "{out}"
        );
        assert!(out.contains("Allow: GET, HEAD\r\n"));
        assert!(out.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn cached_fields_give_the_same_head() {
        let mut h = ResponseHead::new(Status::Ok, 784_111_777, true);
        h.content_type = Some(b"text/css");
        h.content_length = Some(1234);
        h.last_modified = Some(784_000_000);
        h.etag = Some(b"\"2ebc6e80-4d2\"");
        h.accept_ranges = true;
        h.vary_accept_encoding = true;
        let mut fields = [0u8; 512];
        let n = write_object_fields(&h, &mut fields).unwrap();
        let (len, range) = write_head_parts(&h, &mut [0u8; 1024]).unwrap();
        assert_eq!(range.len(), n);
        for keep_alive in [true, false] {
            h.keep_alive = keep_alive;
            h.date = Now::at(784_111_999);
            let mut with = [0u8; 1024];
            let m = write_head_with_fields(&h, &fields[..n], &mut with).unwrap();
            assert_eq!(&with[..m], s(&h).as_bytes());
            assert_eq!(m, if keep_alive { len } else { len - 5 });
        }
    }

    #[test]
    fn too_small() {
        let h = ResponseHead::new(Status::Ok, 0, false);
        let mut buf = [0u8; 40];
        assert_eq!(write_head(&h, &mut buf), Err(HeadTooLarge));
    }
}
