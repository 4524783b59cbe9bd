// SPDX-License-Identifier: GPL-2.0

//! Access log lines in the Combined Log Format.
//!
//! ```text
//! 10.0.2.2 - - [23/Nov/2026:11:04:33 +0000] "GET /index.html HTTP/1.1" 200 301 "-" "curl/7.88.1"
//! ```
//!
//! Everything the client sent is escaped the way nginx escapes it: `"`,
//! `\` and bytes outside printable ASCII become `\xHH`, so a line can never
//! be split or forged by a request. Fields are truncated to fit the output
//! buffer; the line always ends with `\n`.

use super::authority::write_ip;
use super::cursor::{Cursor, Full};
use super::date::format_clf_date;
use super::parser::{Method, Request, Version};
use core::net::IpAddr;

/// What is logged about one request.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Client address (an IPv4-mapped IPv6 one is logged as IPv4).
    pub client: IpAddr,
    /// Time of the request, seconds since the epoch.
    pub time: u64,
    /// The request, if it could be parsed.
    pub request: Option<&'a Request<'a>>,
    /// Status code sent.
    pub status: u16,
    /// Body bytes sent (as planned).
    pub bytes: u64,
}

/// Longest logged request target; longer ones are cut and end in `...`.
pub const MAX_TARGET: usize = 1024;
/// Longest logged Referer or User-Agent.
pub const MAX_FIELD: usize = 256;

fn method_bytes<'a>(m: Method<'a>) -> &'a [u8] {
    match m {
        Method::Get => b"GET",
        Method::Head => b"HEAD",
        Method::Post => b"POST",
        Method::Put => b"PUT",
        Method::Delete => b"DELETE",
        Method::Options => b"OPTIONS",
        Method::Trace => b"TRACE",
        Method::Patch => b"PATCH",
        Method::Connect => b"CONNECT",
        Method::Other(t) => t,
    }
}

/// Writes `s` escaped, at most `max` source bytes (then `...`).
fn escaped(c: &mut Cursor<'_>, s: &[u8], max: usize) -> Result<(), Full> {
    for (i, &b) in s.iter().enumerate() {
        if i >= max {
            return c.put(b"...");
        }
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            c.put(b"\\x")?;
            c.byte(hex_digit(b >> 4))?;
            c.byte(hex_digit(b & 0xf))?;
        } else {
            c.byte(b)?;
        }
    }
    Ok(())
}

fn hex_digit(n: u8) -> u8 {
    match n {
        0..=9 => b'0'.wrapping_add(n),
        _ => b'A'.wrapping_add(n.wrapping_sub(10)),
    }
}

fn quoted_or_dash(c: &mut Cursor<'_>, v: Option<&[u8]>) -> Result<(), Full> {
    match v {
        Some(v) => {
            c.byte(b'"')?;
            escaped(c, v, MAX_FIELD)?;
            c.byte(b'"')
        }
        None => c.put(b"\"-\""),
    }
}

fn write_line(r: &Record<'_>, c: &mut Cursor<'_>) -> Result<(), Full> {
    write_ip(c, r.client)?;
    c.put(b" - - [")?;
    c.put(&format_clf_date(r.time))?;
    c.put(b"] \"")?;
    if let Some(req) = r.request {
        c.put(method_bytes(req.method))?;
        c.byte(b' ')?;
        escaped(c, req.target, MAX_TARGET)?;
        c.put(match req.version {
            Version::Http10 => b" HTTP/1.0",
            Version::Http11 => b" HTTP/1.1",
        })?;
    } else {
        c.byte(b'-')?;
    }
    c.put(b"\" ")?;
    c.dec(u64::from(r.status))?;
    c.byte(b' ')?;
    c.dec(r.bytes)?;
    c.byte(b' ')?;
    quoted_or_dash(c, r.request.and_then(|q| q.header(b"referer")))?;
    c.byte(b' ')?;
    quoted_or_dash(c, r.request.and_then(|q| q.header(b"user-agent")))
}

/// Formats one log line into `out` (with its trailing `\n`) and returns its
/// length. If the line does not fit, it is cut (at a field boundary or
/// inside an escaped field) and still ends with `\n`;
/// `out` shorter than 1 byte yields 0.
pub fn format_line(r: &Record<'_>, out: &mut [u8]) -> usize {
    let Some(room) = out.len().checked_sub(1) else {
        return 0;
    };
    let len = {
        let Some(body) = out.get_mut(..room) else {
            return 0;
        };
        let mut c = Cursor::new(body);
        // A full buffer simply truncates the line.
        let _ = write_line(r, &mut c);
        c.len()
    };
    match out.get_mut(len) {
        Some(nl) => {
            *nl = b'\n';
            len.saturating_add(1)
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::{parse_request, Limits, Parse};
    use super::*;
    use core::net::Ipv4Addr;

    fn line(raw: &[u8], status: u16, bytes: u64, out: &mut [u8]) -> usize {
        let Ok(Parse::Complete { request, .. }) = parse_request(raw, &Limits::DEFAULT) else {
            panic!("not parsed");
        };
        let r = Record {
            client: IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)),
            time: 784_111_777,
            request: Some(&request),
            status,
            bytes,
        };
        format_line(&r, out)
    }

    #[test]
    fn combined_format() {
        let mut out = [0u8; 512];
        let n = line(
            b"GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: t/1 \"q\"\r\nReferer: http://r/\r\n\r\n",
            200,
            1234,
            &mut out,
        );
        assert_eq!(
            &out[..n],
            &b"10.0.2.2 - - [06/Nov/1994:08:49:37 +0000] \"GET /a%20b?x=1 HTTP/1.1\" 200 1234 \"http://r/\" \"t/1 \\x22q\\x22\"\n"[..]
        );
    }

    #[test]
    fn unparsed_request_and_truncation() {
        let r = Record {
            client: IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
            time: 0,
            request: None,
            status: 400,
            bytes: 0,
        };
        let mut out = [0u8; 256];
        let n = format_line(&r, &mut out);
        assert_eq!(
            &out[..n],
            &b"1.2.3.4 - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\"\n"[..]
        );
        let mut small = [0u8; 20];
        let n = format_line(&r, &mut small);
        assert!(n > 0 && n <= 20);
        assert_eq!(small[n - 1], b'\n');
        assert!(small[..n].starts_with(b"1.2.3.4 - - "));
        assert_eq!(format_line(&r, &mut []), 0);
    }
}
