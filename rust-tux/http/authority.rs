// SPDX-License-Identifier: GPL-2.0

//! Host values as RFC 3986 authorities, and IP addresses as text.
//!
//! A `Host` field (or the authority of an absolute-form target) is
//! `host [ ":" port ]` where `host` is a bracketed IP-literal, an IPv4
//! address or a reg-name (RFC 3986 §3.2.2; RFC 9110 §7.2). [`parse`]
//! accepts exactly that, with an IPv6 address inside the brackets (no
//! IPvFuture, no zone identifier) and an all-digit port up to 65535;
//! anything else is the parser's 400. `userinfo@` is refused: it has no
//! place in a Host field and is deprecated in http URIs. IPv4 text is
//! within reg-name's grammar and is returned as a name: every request
//! parses its Host, and nothing here needs the address.
//!
//! [`format_ip`] writes an address the way RFC 5952 says to write IPv6
//! (lower case, the longest run of zero groups as `::`), and an
//! IPv4-mapped IPv6 address (a dual-stack socket's IPv4 client) as the IPv4
//! address it is.

use super::cursor::{Cursor, Full};
use core::fmt::{self, Write};
use core::net::{IpAddr, Ipv6Addr};

/// Longest IPv6 address text (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`).
pub const IPV6_TEXT_MAX: usize = 45;

/// The host of an authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    /// A reg-name or IPv4 address (possibly empty; may hold `%XX` escapes),
    /// as sent.
    Name(&'a [u8]),
    /// The IPv6 address of an IP-literal.
    Ip(IpAddr),
}

/// A parsed authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authority<'a> {
    /// The host.
    pub host: Host<'a>,
    /// The port, when one was given (`host:` has none).
    pub port: Option<u16>,
}

/// Why a value is not an authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorityError {
    /// A character or shape RFC 3986 does not allow.
    Syntax,
    /// An IP-literal that is not an IPv6 address (IPvFuture, a zone, junk).
    IpLiteral,
    /// A port that is not digits or is over 65535.
    Port,
}

/// `unreserved / sub-delims` of RFC 3986 (a reg-name's bytes besides `%XX`).
fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)
}

fn valid_reg_name(name: &[u8]) -> bool {
    let mut rest = name;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            match tail {
                [h, l, more @ ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => rest = more,
                _ => return false,
            }
        } else if is_reg_name_byte(b) {
            rest = tail;
        } else {
            return false;
        }
    }
    true
}

fn parse_port(digits: &[u8]) -> Result<Option<u16>, AuthorityError> {
    if digits.is_empty() {
        return Ok(None);
    }
    let mut v: u16 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(AuthorityError::Port);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u16::from(d.wrapping_sub(b'0'))))
            .ok_or(AuthorityError::Port)?;
    }
    Ok(Some(v))
}

fn parse_ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    if text.len() > IPV6_TEXT_MAX
        || !text
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return None;
    }
    core::str::from_utf8(text).ok()?.parse().ok()
}

/// Parses a Host value (or an absolute-form authority).
pub fn parse(v: &[u8]) -> Result<Authority<'_>, AuthorityError> {
    let (host, port) = if let Some(inner) = v.strip_prefix(b"[") {
        let close = inner
            .iter()
            .position(|&b| b == b']')
            .ok_or(AuthorityError::IpLiteral)?;
        let (literal, after) = inner
            .split_at_checked(close)
            .ok_or(AuthorityError::Syntax)?;
        let addr = parse_ipv6(literal).ok_or(AuthorityError::IpLiteral)?;
        let port = match after.get(1..).unwrap_or(&[]) {
            [] => &[][..],
            [b':', digits @ ..] => digits,
            _ => return Err(AuthorityError::Syntax),
        };
        (Host::Ip(IpAddr::V6(addr)), port)
    } else {
        let (name, port) = match v.iter().position(|&b| b == b':') {
            Some(colon) => {
                let (name, port) = v.split_at_checked(colon).ok_or(AuthorityError::Syntax)?;
                (name, port.get(1..).unwrap_or(&[]))
            }
            None => (v, &[][..]),
        };
        if !valid_reg_name(name) {
            return Err(AuthorityError::Syntax);
        }
        (Host::Name(name), port)
    };
    Ok(Authority {
        host,
        port: parse_port(port)?,
    })
}

/// `core::fmt` output into a [`Cursor`].
struct CursorWriter<'c, 'b>(&'c mut Cursor<'b>);

impl Write for CursorWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes()).map_err(|Full| fmt::Error)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(a),
        },
        v4 => v4,
    }
}

/// Writes `ip` as text: dotted IPv4, or IPv6 as RFC 5952 says; an
/// IPv4-mapped IPv6 address is written as IPv4.
pub(crate) fn write_ip(c: &mut Cursor<'_>, ip: IpAddr) -> Result<(), Full> {
    write!(CursorWriter(c), "{}", canonical(ip)).map_err(|_| Full)
}

/// Writes `ip` as text into `buf`: dotted IPv4, or IPv6 as RFC 5952 says,
/// an IPv4-mapped IPv6 address as IPv4. Returns the length,
/// or `None` when `buf` is too small (46 bytes always suffice).
pub fn format_ip(ip: IpAddr, buf: &mut [u8]) -> Option<usize> {
    let mut c = Cursor::new(buf);
    write_ip(&mut c, ip).ok()?;
    Some(c.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(a: &Authority<'_>) -> Option<IpAddr> {
        match a.host {
            Host::Ip(ip) => Some(ip),
            Host::Name(_) => None,
        }
    }

    #[test]
    fn accepts_rfc3986_authorities() {
        let a = parse(b"example.com:8080").unwrap();
        assert_eq!(a.host, Host::Name(b"example.com"));
        assert_eq!(a.port, Some(8080));
        assert_eq!(parse(b"").unwrap().host, Host::Name(b""));
        assert_eq!(parse(b"host:").unwrap().port, None);
        assert_eq!(
            parse(b"a_b~c!$&'()*+,;=%41").unwrap().host,
            Host::Name(b"a_b~c!$&'()*+,;=%41")
        );
        // IPv4 text is a name here (reg-name's grammar covers it).
        assert_eq!(parse(b"10.0.0.1").unwrap().host, Host::Name(b"10.0.0.1"));
        assert_eq!(parse(b"10.0.0.01").unwrap().host, Host::Name(b"10.0.0.01"));
        assert_eq!(parse(b"1.2.3").unwrap().host, Host::Name(b"1.2.3"));
        let a = parse(b"[2001:DB8::1]:443").unwrap();
        assert_eq!(ip(&a), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(a.port, Some(443));
        assert_eq!(ip(&parse(b"[::1]").unwrap()), Some("::1".parse().unwrap()));
        assert_eq!(
            ip(&parse(b"[::ffff:192.0.2.1]").unwrap()),
            Some("::ffff:192.0.2.1".parse().unwrap())
        );
        assert_eq!(parse(b"h:65535").unwrap().port, Some(65535));
        assert_eq!(parse(b"h:00080").unwrap().port, Some(80));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            &b"a b"[..],
            b"user@host",
            b"a/b",
            b"a%4",
            b"a%zz",
            b"a:b",
            b"a:80:80",
            b"::1",
            b"a\"b",
            b"\xc3\xa9.example",
        ] {
            assert!(parse(bad).is_err(), "{:?}", core::str::from_utf8(bad));
        }
        assert_eq!(parse(b"h:65536"), Err(AuthorityError::Port));
        assert_eq!(parse(b"h:99999999999999999999"), Err(AuthorityError::Port));
        assert_eq!(parse(b"h:-1"), Err(AuthorityError::Port));
        for lit in [
            &b"[::1"[..],
            b"[]",
            b"[1.2.3.4]",
            b"[v1.fe80]",
            b"[fe80::1%25eth0]",
            b"[:::1]",
            b"[1:2:3:4:5:6:7:8:9]",
            b"[12345::]",
            b"[g::]",
        ] {
            assert_eq!(
                parse(lit),
                Err(AuthorityError::IpLiteral),
                "{:?}",
                core::str::from_utf8(lit)
            );
        }
        assert_eq!(parse(b"[::1]x"), Err(AuthorityError::Syntax));
        assert_eq!(parse(b"[::1]:x"), Err(AuthorityError::Port));
    }

    fn text(s: &str) -> [u8; 64] {
        let mut b = [0u8; 64];
        let n = format_ip(s.parse().unwrap(), &mut b).unwrap();
        let mut out = [b' '; 64];
        out[..n].copy_from_slice(&b[..n]);
        out
    }

    #[test]
    fn writes_rfc5952_text() {
        for (input, want) in [
            ("2001:DB8:0:0:0:0:2:1", "2001:db8::2:1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("::", "::"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("10.0.2.2", "10.0.2.2"),
        ] {
            let got = text(input);
            assert_eq!(
                core::str::from_utf8(&got).unwrap().trim_end(),
                want,
                "{input}"
            );
        }
        let mut small = [0u8; 4];
        assert_eq!(format_ip("::1".parse().unwrap(), &mut small), Some(3));
        assert_eq!(format_ip("2001:db8::1".parse().unwrap(), &mut small), None);
        let mut max = [0u8; IPV6_TEXT_MAX];
        assert!(format_ip(
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
            &mut max
        )
        .is_some());
    }
}
