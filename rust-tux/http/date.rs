// SPDX-License-Identifier: GPL-2.0

//! HTTP-date (RFC 9110 §5.6.7): IMF-fixdate formatting, and parsing of
//! IMF-fixdate plus the obsolete RFC 850 and asctime forms.
//!
//! All calendar arithmetic is on bounded integers: formatting clamps to
//! 9999-12-31 23:59:59, parsing only accepts 1970..=9999.

/// Length of an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// Seconds of 9999-12-31T23:59:59Z, the latest representable date.
pub const MAX_DATE: u64 = 253_402_300_799;

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const LONG_DAYS: [&[u8]; 7] = [
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: u64,
    month: u64, // 1..=12
    day: u64,   // 1..=31
}

/// Days since 1970-01-01 → civil date (H. Hinnant's algorithm), for
/// `days <= MAX_DATE / 86400`, so no operation can overflow.
#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(days: u64) -> Civil {
    let z = days.min(MAX_DATE / 86_400) + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    Civil { year, month, day }
}

/// Civil date → days since 1970-01-01; `None` before 1970 or after 9999.
/// Inputs are range-checked first, so no operation can overflow.
#[allow(clippy::arithmetic_side_effects)]
fn days_from_civil(c: Civil) -> Option<u64> {
    if !(1970..=9999).contains(&c.year) || !(1..=12).contains(&c.month) {
        return None;
    }
    if c.day < 1 || c.day > days_in_month(c.year, c.month) {
        return None;
    }
    let y = if c.month <= 2 { c.year - 1 } else { c.year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if c.month > 2 {
        c.month - 3
    } else {
        c.month + 9
    };
    let doy = (153 * mp + 2) / 5 + c.day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

fn is_leap(y: u64) -> bool {
    let divides = |n: u64| y.checked_rem(n) == Some(0);
    (divides(4) && !divides(100)) || divides(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn put2(out: &mut [u8], at: usize, v: u64) {
    if let Some([a, b, ..]) = out.get_mut(at..) {
        *a = b'0'.wrapping_add((v / 10 % 10) as u8);
        *b = b'0'.wrapping_add((v % 10) as u8);
    }
}

/// Formats `secs` since the epoch as an IMF-fixdate (clamped to
/// [`MAX_DATE`]).
pub fn format_http_date(secs: u64) -> [u8; HTTP_DATE_LEN] {
    let secs = secs.min(MAX_DATE);
    let days = secs / 86_400;
    let sod = secs % 86_400;
    let c = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let wd = DAYS.get((days % 7) as usize).copied().unwrap_or(b"Thu");
    if let Some(d) = out.get_mut(0..3) {
        d.copy_from_slice(wd);
    }
    put_civil(&mut out, c, sod, [5, 8, 12, 17]);
    out
}

/// Writes day, month name, 4-digit year and HH:MM:SS at the given offsets
/// (the separators are already in `out`).
fn put_civil(out: &mut [u8], c: Civil, sod: u64, [day, mon, year, time]: [usize; 4]) {
    put2(out, day, c.day);
    let name = MONTHS
        .get((c.month.saturating_sub(1)) as usize)
        .copied()
        .unwrap_or(b"Jan");
    if let Some(d) = out.get_mut(mon..mon.saturating_add(3)) {
        d.copy_from_slice(name);
    }
    put2(out, year, c.year / 100);
    put2(out, year.saturating_add(2), c.year % 100);
    put2(out, time, sod / 3600);
    put2(out, time.saturating_add(3), sod / 60 % 60);
    put2(out, time.saturating_add(6), sod % 60);
}

/// A moment with its `Date` text, formatted once.
///
/// Responses carry the current time in their `Date` field; a server keeps
/// one `Now` and calls [`Now::refresh`] per request, so the text is
/// formatted at most once per second. Anything taking `impl Into<Now>`
/// also accepts plain seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    secs: u64,
    text: [u8; HTTP_DATE_LEN],
}

impl Now {
    /// The moment `secs` seconds after the epoch.
    pub fn at(secs: u64) -> Self {
        Now {
            secs,
            text: format_http_date(secs),
        }
    }

    /// Moves to `secs`, reformatting only if the second changed.
    pub fn refresh(&mut self, secs: u64) {
        if secs != self.secs {
            *self = Now::at(secs);
        }
    }

    /// Seconds since the epoch.
    pub fn secs(&self) -> u64 {
        self.secs
    }

    /// The IMF-fixdate text.
    pub fn text(&self) -> &[u8; HTTP_DATE_LEN] {
        &self.text
    }
}

impl From<u64> for Now {
    fn from(secs: u64) -> Self {
        Now::at(secs)
    }
}

/// Length of a Common Log Format timestamp, `10/Oct/2000:13:55:36 +0000`.
pub const CLF_DATE_LEN: usize = 26;

/// Formats `secs` since the epoch as a Common Log Format timestamp in UTC
/// (clamped to [`MAX_DATE`]).
pub fn format_clf_date(secs: u64) -> [u8; CLF_DATE_LEN] {
    let secs = secs.min(MAX_DATE);
    let c = civil_from_days(secs / 86_400);
    let sod = secs % 86_400;
    let mut out = *b"01/Jan/1970:00:00:00 +0000";
    put_civil(&mut out, c, sod, [0, 3, 7, 12]);
    out
}

/// Parses exactly `n` ASCII digits.
fn digits(s: &[u8], n: usize) -> Option<(u64, &[u8])> {
    let (d, rest) = s.split_at_checked(n)?;
    let v = d.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?
                .checked_add(u64::from(b.wrapping_sub(b'0')))
        } else {
            None
        }
    })?;
    Some((v, rest))
}

fn month(s: &[u8]) -> Option<(u64, &[u8])> {
    let (m, rest) = s.split_at_checked(3)?;
    let i = MONTHS.iter().position(|name| name.as_slice() == m)?;
    Some((u64::try_from(i).ok()?.checked_add(1)?, rest))
}

fn lit<'s>(s: &'s [u8], l: &[u8]) -> Option<&'s [u8]> {
    s.strip_prefix(l)
}

/// `HH:MM:SS` → seconds of day.
fn time_of_day(s: &[u8]) -> Option<(u64, &[u8])> {
    let (h, s) = digits(s, 2)?;
    let (m, s) = digits(lit(s, b":")?, 2)?;
    let (sec, s) = digits(lit(s, b":")?, 2)?;
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let sod = h.checked_mul(3600)?.checked_add(m.checked_mul(60)?)?;
    Some((sod.checked_add(sec.min(59))?, s))
}

fn assemble(c: Civil, sod: u64) -> Option<u64> {
    days_from_civil(c)?.checked_mul(86_400)?.checked_add(sod)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn imf_fixdate(s: &[u8]) -> Option<u64> {
    let (wd, s) = s.split_at_checked(3)?;
    if !DAYS.iter().any(|d| d.as_slice() == wd) {
        return None;
    }
    let (day, s) = digits(lit(s, b", ")?, 2)?;
    let (mon, s) = month(lit(s, b" ")?)?;
    let (year, s) = digits(lit(s, b" ")?, 4)?;
    let (sod, s) = time_of_day(lit(s, b" ")?)?;
    if s != b" GMT" {
        return None;
    }
    assemble(
        Civil {
            year,
            month: mon,
            day,
        },
        sod,
    )
}

/// `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years: 70..99 → 19xx).
fn rfc850(s: &[u8]) -> Option<u64> {
    let comma = s.iter().position(|&b| b == b',')?;
    let (wd, s) = s.split_at_checked(comma)?;
    if !LONG_DAYS.contains(&wd) {
        return None;
    }
    let (day, s) = digits(lit(s, b", ")?, 2)?;
    let (mon, s) = month(lit(s, b"-")?)?;
    let (yy, s) = digits(lit(s, b"-")?, 2)?;
    let (sod, s) = time_of_day(lit(s, b" ")?)?;
    if s != b" GMT" {
        return None;
    }
    let year = if yy >= 70 { 1900 } else { 2000 };
    assemble(
        Civil {
            year: yy.checked_add(year)?,
            month: mon,
            day,
        },
        sod,
    )
}

/// `Sun Nov  6 08:49:37 1994`.
fn asctime(s: &[u8]) -> Option<u64> {
    let (wd, s) = s.split_at_checked(3)?;
    if !DAYS.iter().any(|d| d.as_slice() == wd) {
        return None;
    }
    let (mon, s) = month(lit(s, b" ")?)?;
    let s = lit(s, b" ")?;
    let (day, s) = match s {
        [b' ', d, rest @ ..] if d.is_ascii_digit() => (u64::from(d.wrapping_sub(b'0')), rest),
        _ => digits(s, 2)?,
    };
    let (sod, s) = time_of_day(lit(s, b" ")?)?;
    let (year, s) = digits(lit(s, b" ")?, 4)?;
    if !s.is_empty() {
        return None;
    }
    assemble(
        Civil {
            year,
            month: mon,
            day,
        },
        sod,
    )
}

/// Parses an HTTP-date into seconds since the epoch. Returns `None` for
/// anything malformed or outside 1970..=9999.
pub fn parse_http_date(s: &[u8]) -> Option<u64> {
    imf_fixdate(s).or_else(|| rfc850(s)).or_else(|| asctime(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_formats_once_per_second() {
        let mut n = Now::at(784_111_777);
        assert_eq!(n.text(), b"Sun, 06 Nov 1994 08:49:37 GMT");
        n.refresh(784_111_777);
        assert_eq!(n.secs(), 784_111_777);
        n.refresh(784_111_778);
        assert_eq!(n.text(), b"Sun, 06 Nov 1994 08:49:38 GMT");
        assert_eq!(Now::from(0).text(), &format_http_date(0));
    }

    #[test]
    fn format_known() {
        assert_eq!(&format_http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &format_http_date(784_111_777),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            &format_http_date(951_782_400),
            b"Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            &format_http_date(MAX_DATE),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            &format_http_date(u64::MAX),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn parse_forms() {
        let t = Some(784_111_777);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), t);
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), t);
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), t);
        assert_eq!(parse_http_date(b"Sun Nov 06 08:49:37 1994"), t);
        assert_eq!(parse_http_date(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn parse_rejects() {
        for s in [
            &b""[..],
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 31 Feb 1994 08:49:37 GMT",
            b"Sun, 29 Feb 1900 08:49:37 GMT",
            b"Sun, 06 Nov 1969 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Nov 1994 08:60:00 GMT",
            b"Sun, 06 nov 1994 08:49:37 GMT",
            b"Xyz, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 GMT ",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Sun, 00 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov +994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(s), None, "{:?}", core::str::from_utf8(s));
        }
        assert_eq!(
            parse_http_date(b"Sun, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
    }

    #[test]
    fn round_trip_sampled() {
        let mut t: u64 = 0;
        while t < MAX_DATE {
            let f = format_http_date(t);
            assert_eq!(parse_http_date(&f), Some(t), "{t}");
            t += 86_399 * 37 + 12_345;
        }
    }
}
