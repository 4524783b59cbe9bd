// SPDX-License-Identifier: GPL-2.0

//! Zero-copy, incremental HTTP/1.x request-head parser (RFC 9112).
//!
//! [`parse_request`] is called with everything received so far. It either
//! returns [`Parse::Incomplete`] (read more and call again with the longer
//! buffer), a complete [`Request`] borrowing from the buffer together with
//! the number of bytes the head used (pipelined requests follow), or an
//! [`Error`] whose [`Error::status`] is the response to send before closing.
//!
//! Decisions (see also `README.md`):
//! - Bare LF is accepted as a line terminator (as nginx does); a CR not
//!   immediately followed by LF is rejected anywhere.
//! - Up to [`Limits::max_empty_lines`] empty lines before the request line
//!   are skipped (RFC 9112 §2.2).
//! - Absolute-form targets (`http://host/path`) are accepted; their
//!   authority replaces the Host header (RFC 9112 §3.2.2). Authority-form
//!   and asterisk-form parse, and the planner answers them with 400 for
//!   GET/HEAD.
//! - Any Transfer-Encoding is refused: with Content-Length or on HTTP/1.0
//!   it is 400 (faulty framing), otherwise 501 (no request bodies with
//!   transfer codings are implemented). Either way the connection closes.
//! - Too many header fields is 431, like too many header bytes.

use super::status::Status;

/// Most header fields a request may have (the cap of [`Limits::max_headers`]).
pub const MAX_HEADERS: usize = 64;

/// Parser limits. Defaults are modelled on nginx's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line (without its line terminator); longer → 414.
    pub max_request_line: usize,
    /// Longest request head, request line through the empty line; → 431.
    pub max_head_bytes: usize,
    /// Most header fields (capped at [`MAX_HEADERS`]); more → 431.
    pub max_headers: usize,
    /// Most empty lines skipped before the request line; more → 400.
    pub max_empty_lines: usize,
    /// Largest Content-Length accepted (the glue discards the body); → 413.
    pub max_body: u64,
}

impl Limits {
    /// The default limits: 8 KiB request line, 16 KiB head, 64 fields,
    /// 8 leading empty lines, 1 MiB of discarded body.
    pub const DEFAULT: Limits = Limits {
        max_request_line: 8192,
        max_head_bytes: 16384,
        max_headers: MAX_HEADERS,
        max_empty_lines: 8,
        max_body: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why a request head was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A CR not followed by LF.
    BareCr,
    /// A NUL byte in the head.
    Nul,
    /// Too many empty lines before the request line.
    TooManyEmptyLines,
    /// The request line is not `method SP target SP version`.
    InvalidRequestLine,
    /// The method is not a token.
    InvalidMethod,
    /// The request target contains invalid bytes or is malformed.
    InvalidTarget,
    /// The version is not `HTTP/d.d`.
    InvalidVersion,
    /// A well-formed version other than HTTP/1.x (505).
    UnsupportedVersion,
    /// The request line is longer than allowed (414).
    RequestLineTooLong,
    /// The head is larger than allowed (431).
    HeadTooLarge,
    /// More header fields than allowed (431).
    TooManyHeaders,
    /// A line beginning with whitespace (obsolete line folding).
    ObsFold,
    /// A header line without a colon.
    MissingColon,
    /// A field name that is empty or not a token.
    InvalidHeaderName,
    /// Whitespace between a field name and the colon.
    WhitespaceBeforeColon,
    /// A control character in a field value.
    InvalidHeaderValue,
    /// More than one Content-Length field.
    DuplicateContentLength,
    /// A Content-Length that is not a decimal number fitting in 64 bits.
    InvalidContentLength,
    /// Content-Length larger than [`Limits::max_body`] (413).
    BodyTooLarge,
    /// Transfer-Encoding together with Content-Length, or on HTTP/1.0.
    TransferEncodingFraming,
    /// Transfer-Encoding on an HTTP/1.1 request (501).
    TransferEncodingUnsupported,
    /// HTTP/1.1 request without Host.
    MissingHost,
    /// More than one Host field.
    DuplicateHost,
    /// A Host value (or absolute-form authority) with invalid characters.
    InvalidHost,
}

impl Error {
    /// The status to answer with (the connection must then be closed).
    pub const fn status(self) -> Status {
        match self {
            Error::RequestLineTooLong => Status::UriTooLong,
            Error::HeadTooLarge | Error::TooManyHeaders => Status::HeaderFieldsTooLarge,
            Error::UnsupportedVersion => Status::VersionNotSupported,
            Error::TransferEncodingUnsupported => Status::NotImplemented,
            Error::BodyTooLarge => Status::ContentTooLarge,
            _ => Status::BadRequest,
        }
    }
}

/// The request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method<'a> {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
    /// OPTIONS.
    Options,
    /// TRACE.
    Trace,
    /// PATCH.
    Patch,
    /// CONNECT.
    Connect,
    /// Any other token (methods are case-sensitive).
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// Classifies a method token.
    pub fn from_token(t: &'a [u8]) -> Self {
        match t {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            b"CONNECT" => Method::Connect,
            other => Method::Other(other),
        }
    }
}

/// The protocol version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1 (also used for HTTP/1.x with x > 1).
    Http11,
}

/// The form of the request target (RFC 9112 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`.
    Origin,
    /// `http://authority/path?query`.
    Absolute,
    /// `host:port`.
    Authority,
    /// `*`.
    Asterisk,
}

/// One header field, borrowing from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name as sent.
    pub name: &'a [u8],
    /// The field value without surrounding whitespace.
    pub value: &'a [u8],
}

/// A parsed request head. All slices borrow from the parsed buffer.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: Method<'a>,
    /// The raw request target.
    pub target: &'a [u8],
    /// The form of the target.
    pub target_form: TargetForm,
    /// The raw (still percent-encoded) path; empty for authority and
    /// asterisk form.
    pub path: &'a [u8],
    /// The raw query after `?`, if any.
    pub query: Option<&'a [u8]>,
    /// The version.
    pub version: Version,
    /// The effective host: the absolute-form authority, else the Host value.
    pub host: Option<&'a [u8]>,
    /// `Connection: close` was requested.
    pub connection_close: bool,
    /// `Connection: keep-alive` was requested.
    pub connection_keep_alive: bool,
    /// The first If-None-Match value (see [`Request::headers_named`]).
    pub if_none_match: Option<&'a [u8]>,
    /// If-Modified-Since, if sent exactly once.
    pub if_modified_since: Option<&'a [u8]>,
    /// Range, if sent exactly once.
    pub range: Option<&'a [u8]>,
    /// If-Range, if sent exactly once.
    pub if_range: Option<&'a [u8]>,
    /// Accept-Encoding allows gzip (q > 0 for `gzip`/`x-gzip`, else `*`).
    pub accept_gzip: bool,
    /// Content-Length (0 if absent); the glue must discard that many bytes.
    pub content_length: u64,
    /// The field lines, each ending in LF or CRLF, all valid: read again by
    /// [`Request::headers`] rather than kept as an array, so that a request
    /// stays small (it is moved around on the kernel stack).
    fields: &'a [u8],
    header_count: usize,
}

/// The header fields of a [`Request`], in order; see [`Request::headers`].
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        self.left = self.left.checked_sub(1)?;
        let Ok(Line::Done(line, rest)) = take_line(self.rest) else {
            self.left = 0;
            return None;
        };
        self.rest = rest;
        let (name, value) = split_field(line)?;
        Some(Header { name, value })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Headers<'_> {}

impl<'a> Request<'a> {
    /// All header fields in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers {
            rest: self.fields,
            left: self.header_count,
        }
    }

    /// The value of the first field named `name` (case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers_named(name).next()
    }

    /// Values of all fields named `name` (case-insensitive), in order.
    pub fn headers_named<'s>(&'s self, name: &'s [u8]) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// Whether the client wants the connection kept open after this
    /// request: HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        if self.connection_close {
            return false;
        }
        match self.version {
            Version::Http11 => true,
            Version::Http10 => self.connection_keep_alive,
        }
    }

    /// Whether this is a HEAD request.
    pub fn is_head(&self) -> bool {
        self.method == Method::Head
    }
}

/// Result of a successful parse step.
#[derive(Clone, Debug)]
pub enum Parse<'a> {
    /// The head is not complete yet; read more and call again.
    Incomplete,
    /// A complete head.
    Complete {
        /// The request.
        request: Request<'a>,
        /// Bytes of the buffer used by the head (including skipped empty
        /// lines); a body or a pipelined request starts there.
        consumed: usize,
    },
}

enum Line<'a> {
    /// A complete line without terminator, and the rest of the input.
    Done(&'a [u8], &'a [u8]),
    /// No line terminator yet; the partial line.
    Partial(&'a [u8]),
}

/// Splits a field line at its first colon: the name, and the value without
/// surrounding whitespace. `None` without a colon.
fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at_checked(colon)?;
    Some((name, trim_ows(value.get(1..).unwrap_or(&[]))))
}

/// Splits off one line terminated by LF or CRLF.
fn take_line(s: &[u8]) -> Result<Line<'_>, Error> {
    match s.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let (line, rest) = s.split_at_checked(lf).ok_or(Error::InvalidRequestLine)?;
            let rest = rest.get(1..).unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.contains(&b'\r') {
                return Err(Error::BareCr);
            }
            Ok(Line::Done(line, rest))
        }
        None => {
            let body = s.strip_suffix(b"\r").unwrap_or(s);
            if body.contains(&b'\r') {
                return Err(Error::BareCr);
            }
            Ok(Line::Partial(body))
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims optional whitespace (SP / HTAB) from both ends.
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

fn is_target_byte(b: u8) -> bool {
    // Visible ASCII except '#', plus raw non-ASCII (validated as UTF-8
    // later, after percent-decoding).
    (b > 0x20 && b != 0x7f && b != b'#') || b >= 0x80
}

/// A Host value or absolute-form authority: an RFC 3986 authority
/// (reg-name, IPv4 or bracketed IPv6, optional port).
fn valid_host(v: &[u8]) -> bool {
    super::authority::parse(v).is_ok()
}

/// Early rejection of a request line that can never become valid, so that
/// e.g. a TLS handshake is refused without waiting for a line end.
fn check_partial_request_line(p: &[u8]) -> Result<(), Error> {
    if p.contains(&0) {
        return Err(Error::Nul);
    }
    let method_end = p.iter().position(|&b| b == b' ').unwrap_or(p.len());
    let method = p.get(..method_end).unwrap_or(&[]);
    if !method.iter().all(|&b| is_tchar(b)) {
        return Err(Error::InvalidMethod);
    }
    if p.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(Error::InvalidRequestLine);
    }
    Ok(())
}

struct RequestLine<'a> {
    method: Method<'a>,
    target: &'a [u8],
    form: TargetForm,
    path: &'a [u8],
    query: Option<&'a [u8]>,
    authority: Option<&'a [u8]>,
    version: Version,
}

fn split_sp(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == b' ')?;
    let (a, b) = s.split_at_checked(i)?;
    Some((a, b.get(1..)?))
}

fn parse_version(v: &[u8]) -> Result<Version, Error> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            match (*major, *minor) {
                (b'1', b'0') => Ok(Version::Http10),
                (b'1', _) => Ok(Version::Http11),
                _ => Err(Error::UnsupportedVersion),
            }
        }
        _ => Err(Error::InvalidVersion),
    }
}

fn split_query(t: &[u8]) -> (&[u8], Option<&[u8]>) {
    match t.iter().position(|&b| b == b'?') {
        Some(q) => match t.split_at_checked(q) {
            Some((p, q)) => (p, q.get(1..)),
            None => (t, None),
        },
        None => (t, None),
    }
}

type Target<'a> = (TargetForm, &'a [u8], Option<&'a [u8]>, Option<&'a [u8]>);

fn parse_target(t: &[u8]) -> Result<Target<'_>, Error> {
    if t.is_empty() || !t.iter().all(|&b| is_target_byte(b)) {
        return Err(Error::InvalidTarget);
    }
    if t == b"*" {
        return Ok((TargetForm::Asterisk, b"", None, None));
    }
    if t.first() == Some(&b'/') {
        let (path, query) = split_query(t);
        return Ok((TargetForm::Origin, path, query, None));
    }
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    if let Some(sep) = t.windows(3).position(|w| w == b"://") {
        let (scheme, rest) = t.split_at_checked(sep).ok_or(Error::InvalidTarget)?;
        if !(scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https")) {
            return Err(Error::InvalidTarget);
        }
        let rest = rest.get(3..).unwrap_or(&[]);
        let auth_end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        let (authority, tail) = rest
            .split_at_checked(auth_end)
            .ok_or(Error::InvalidTarget)?;
        if authority.is_empty() || authority.contains(&b'@') {
            return Err(Error::InvalidTarget);
        }
        if !valid_host(authority) {
            return Err(Error::InvalidHost);
        }
        let (path, query) = split_query(tail);
        let path: &[u8] = if path.is_empty() { b"/" } else { path };
        return Ok((TargetForm::Absolute, path, query, Some(authority)));
    }
    Ok((TargetForm::Authority, b"", None, None))
}

fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, Error> {
    if line.contains(&0) {
        return Err(Error::Nul);
    }
    let (method, rest) = split_sp(line).ok_or(Error::InvalidRequestLine)?;
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(Error::InvalidMethod);
    }
    let (target, version) = split_sp(rest).ok_or(Error::InvalidRequestLine)?;
    if target.is_empty() {
        return Err(Error::InvalidRequestLine);
    }
    let (form, path, query, authority) = parse_target(target)?;
    let version = parse_version(version)?;
    Ok(RequestLine {
        method: Method::from_token(method),
        target,
        form,
        path,
        query,
        authority,
        version,
    })
}

/// Parses `1*DIGIT` into a u64 (`None` if empty, non-digit or overflow).
pub fn parse_u64(d: &[u8]) -> Option<u64> {
    if d.is_empty() {
        return None;
    }
    d.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?
            .checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

/// Calls `f` with each non-empty, OWS-trimmed element of a comma list.
pub fn for_each_list_item<'a>(v: &'a [u8], mut f: impl FnMut(&'a [u8])) {
    for item in v.split(|&b| b == b',') {
        let item = trim_ows(item);
        if !item.is_empty() {
            f(item);
        }
    }
}

/// Parses a qvalue (RFC 9110 §12.4.2) into thousandths.
fn parse_qvalue(q: &[u8]) -> Option<u16> {
    let (int, frac) = match q.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let (i, f) = q.split_at_checked(dot)?;
            (i, f.get(1..)?)
        }
        None => (q, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    let mut scale: u16 = 100;
    for &d in frac {
        let digit = u16::from(d.wrapping_sub(b'0'));
        thousandths = thousandths.checked_add(digit.checked_mul(scale)?)?;
        scale /= 10;
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[derive(Default)]
struct GzipPref {
    explicit: Option<u16>,
    star: Option<u16>,
}

impl GzipPref {
    fn add(&mut self, value: &[u8]) {
        for_each_list_item(value, |item| {
            let mut parts = item.split(|&b| b == b';');
            let coding = trim_ows(parts.next().unwrap_or(&[]));
            let mut q = Some(1000u16);
            for p in parts {
                let p = trim_ows(p);
                if let Some(v) = p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")) {
                    q = parse_qvalue(v);
                }
            }
            // An unparsable q-value makes the element unusable.
            let Some(q) = q else { return };
            let slot =
                if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
                    &mut self.explicit
                } else if coding == b"*" {
                    &mut self.star
                } else {
                    return;
                };
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        });
    }

    fn accepts(&self) -> bool {
        match (self.explicit, self.star) {
            (Some(q), _) => q > 0,
            (None, Some(q)) => q > 0,
            (None, None) => false,
        }
    }
}

/// A field that must occur at most once to be honoured.
#[derive(Clone, Copy)]
enum Once<'a> {
    Absent,
    One(&'a [u8]),
    Many,
}

impl<'a> Once<'a> {
    fn add(&mut self, v: &'a [u8]) {
        *self = match *self {
            Once::Absent => Once::One(v),
            _ => Once::Many,
        }
    }

    fn get(self) -> Option<&'a [u8]> {
        match self {
            Once::One(v) => Some(v),
            _ => None,
        }
    }
}

/// Parses a request head from the start of `buf`.
///
/// Returns [`Parse::Incomplete`] for any strict prefix of a valid head that
/// is within the limits, so the caller can read more and retry with the
/// longer buffer.
pub fn parse_request<'a>(buf: &'a [u8], limits: &Limits) -> Result<Parse<'a>, Error> {
    // Skip leading empty lines (RFC 9112 §2.2).
    let mut rest = buf;
    let mut empties: usize = 0;
    loop {
        match rest {
            [] | [b'\r'] => return Ok(Parse::Incomplete),
            [b'\n', r @ ..] | [b'\r', b'\n', r @ ..] => rest = r,
            [b'\r', ..] => return Err(Error::BareCr),
            _ => break,
        }
        empties = empties.saturating_add(1);
        if empties > limits.max_empty_lines {
            return Err(Error::TooManyEmptyLines);
        }
    }
    let head_start = rest;

    // Request line.
    let (line, after) = match take_line(rest)? {
        Line::Partial(p) => {
            if p.len() > limits.max_request_line {
                return Err(Error::RequestLineTooLong);
            }
            check_partial_request_line(p)?;
            return Ok(Parse::Incomplete);
        }
        Line::Done(l, r) => (l, r),
    };
    if line.len() > limits.max_request_line {
        return Err(Error::RequestLineTooLong);
    }
    let rl = parse_request_line(line)?;
    rest = after;

    let max_headers = limits.max_headers.min(MAX_HEADERS);
    let fields_start = rest;
    let fields: &[u8];
    let mut count: usize = 0;
    let mut host = Once::Absent;
    let mut host_seen: usize = 0;
    let mut content_length: Option<u64> = None;
    let mut transfer_encoding = false;
    let mut close = false;
    let mut keep_alive = false;
    let mut if_none_match = None;
    let mut ims = Once::Absent;
    let mut range = Once::Absent;
    let mut if_range = Once::Absent;
    let mut gzip = GzipPref::default();

    loop {
        let used = head_start.len().saturating_sub(rest.len());
        let line_start = rest;
        let (line, after) = match take_line(rest)? {
            Line::Partial(p) => {
                if used.saturating_add(p.len()) > limits.max_head_bytes {
                    return Err(Error::HeadTooLarge);
                }
                if p.contains(&0) {
                    return Err(Error::Nul);
                }
                return Ok(Parse::Incomplete);
            }
            Line::Done(l, r) => (l, r),
        };
        rest = after;
        if head_start.len().saturating_sub(rest.len()) > limits.max_head_bytes {
            return Err(Error::HeadTooLarge);
        }
        if line.is_empty() {
            let len = fields_start.len().saturating_sub(line_start.len());
            fields = fields_start.get(..len).unwrap_or(&[]);
            break;
        }
        if line.first().is_some_and(|&b| is_ows(b)) {
            return Err(Error::ObsFold);
        }
        if line.contains(&0) {
            return Err(Error::Nul);
        }
        let (name, value) = split_field(line).ok_or(Error::MissingColon)?;
        if name.last().is_some_and(|&b| is_ows(b)) {
            return Err(Error::WhitespaceBeforeColon);
        }
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(Error::InvalidHeaderName);
        }
        if !value
            .iter()
            .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        {
            return Err(Error::InvalidHeaderValue);
        }
        if count >= max_headers {
            return Err(Error::TooManyHeaders);
        }
        count = count.saturating_add(1);

        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        if is(b"host") {
            host_seen = host_seen.saturating_add(1);
            if host_seen > 1 {
                return Err(Error::DuplicateHost);
            }
            if !valid_host(value) {
                return Err(Error::InvalidHost);
            }
            host.add(value);
        } else if is(b"content-length") {
            if content_length.is_some() {
                return Err(Error::DuplicateContentLength);
            }
            content_length = Some(parse_u64(value).ok_or(Error::InvalidContentLength)?);
        } else if is(b"transfer-encoding") {
            transfer_encoding = true;
        } else if is(b"connection") {
            for_each_list_item(value, |t| {
                if t.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if t.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                }
            });
        } else if is(b"if-none-match") {
            if if_none_match.is_none() {
                if_none_match = Some(value);
            }
        } else if is(b"if-modified-since") {
            ims.add(value);
        } else if is(b"range") {
            range.add(value);
        } else if is(b"if-range") {
            if_range.add(value);
        } else if is(b"accept-encoding") {
            gzip.add(value);
        }
    }

    if transfer_encoding {
        if content_length.is_some() || rl.version == Version::Http10 {
            return Err(Error::TransferEncodingFraming);
        }
        return Err(Error::TransferEncodingUnsupported);
    }
    if rl.version == Version::Http11 && host_seen == 0 {
        return Err(Error::MissingHost);
    }
    let content_length = content_length.unwrap_or(0);
    if content_length > limits.max_body {
        return Err(Error::BodyTooLarge);
    }
    let consumed = buf.len().saturating_sub(rest.len());
    Ok(Parse::Complete {
        request: Request {
            method: rl.method,
            target: rl.target,
            target_form: rl.form,
            path: rl.path,
            query: rl.query,
            version: rl.version,
            host: rl.authority.or(host.get()),
            connection_close: close,
            connection_keep_alive: keep_alive,
            if_none_match,
            if_modified_since: ims.get(),
            range: range.get(),
            if_range: if_range.get(),
            accept_gzip: gzip.accepts(),
            content_length,
            fields,
            header_count: count,
        },
        consumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(buf: &[u8]) -> (Request<'_>, usize) {
        match parse_request(buf, &Limits::DEFAULT) {
            Ok(Parse::Complete { request, consumed }) => (request, consumed),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn err(buf: &[u8]) -> Error {
        match parse_request(buf, &Limits::DEFAULT) {
            Err(e) => e,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn simple_get() {
        let (r, n) = ok(b"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\nrest");
        assert_eq!(n, 44);
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, b"/a/b");
        assert_eq!(r.query, Some(&b"x=1"[..]));
        assert_eq!(r.host, Some(&b"example.com"[..]));
        assert_eq!(r.version, Version::Http11);
        assert!(r.wants_keep_alive());
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.header(b"HOST"), Some(&b"example.com"[..]));
    }

    #[test]
    fn incomplete() {
        let l = Limits::DEFAULT;
        for p in [
            &b""[..],
            b"\r",
            b"GE",
            b"GET / HTTP/1.1\r",
            b"GET / HTTP/1.1\r\nHo",
        ] {
            assert!(
                matches!(parse_request(p, &l), Ok(Parse::Incomplete)),
                "{p:?}"
            );
        }
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue(b"0"), Some(0));
        assert_eq!(parse_qvalue(b"0.000"), Some(0));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"0.123"), Some(123));
        assert_eq!(parse_qvalue(b"1.000"), Some(1000));
        assert_eq!(parse_qvalue(b"1.001"), None);
        assert_eq!(parse_qvalue(b"0.1234"), None);
        assert_eq!(parse_qvalue(b"2"), None);
        assert_eq!(parse_qvalue(b""), None);
    }

    #[test]
    fn errors() {
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), Error::BareCr);
        assert_eq!(err(b"\x16\x03\x01\x02"), Error::InvalidMethod);
        assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), Error::MissingHost);
    }
}
