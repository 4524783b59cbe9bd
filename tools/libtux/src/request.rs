// SPDX-License-Identifier: GPL-2.0

//! A request handed to userspace by `EVENTLOOP`, and how to answer it.

use crate::error::{call, Error, Result};
use crate::head::{
    build_head, now_secs, status_has_no_body, Field, Head, HttpVersion, ResponseHead,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tux_abi::{http_version, method, Action, TuxReq};

/// Largest request head libtux reads (the kernel's limit is far lower).
const MAX_HEAD: u64 = 1 << 20;
/// Bodies up to this size are sent in the same `SEND_BUFFER` as the head.
const COALESCE: usize = 64 * 1024;
/// How often an interrupted send with no progress is retried.
const EINTR_RETRIES: u32 = 16;

/// The request method as the kernel classified it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
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
    /// PATCH.
    Patch,
    /// Anything else: see [`Request::head`]`.method` for the token.
    Other,
}

impl Method {
    /// From the `http_method` field of the request block.
    pub fn from_abi(m: u32) -> Method {
        match m {
            method::GET => Method::Get,
            method::HEAD => Method::Head,
            method::POST => Method::Post,
            method::PUT => Method::Put,
            method::DELETE => Method::Delete,
            method::OPTIONS => Method::Options,
            method::PATCH => Method::Patch,
            _ => Method::Other,
        }
    }
}

/// How a module's handling of a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered and finished (`FINISH_REQ` / `FINISH_CLOSE_REQ`).
    Finished,
    /// Parked with `POSTPONE_REQ`; a [`Postponed`] handle continues it.
    Postponed,
    /// Handed to the fallback server with `REDIRECT_REQ`.
    Redirected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// The head went out; `close` says whether the body is close-delimited
    /// or the client does not keep the connection.
    HeadSent {
        status: u16,
        close: bool,
        head_only: bool,
    },
    Done(Outcome),
}

/// What `GET_OBJECT` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
}

/// A request for one of this process's modules.
///
/// Cheap accessors read the request block; [`Request::head`] and the
/// header accessors fetch and parse the raw head once (`READ_HEADERS`).
/// Answer with [`Request::respond`], [`Request::send_file`], the streaming
/// trio [`Request::start_response`] / [`Request::send_body`] /
/// [`Request::finish`], or hand the request on with [`Request::postpone`] or
/// [`Request::redirect`].
#[derive(Debug)]
pub struct Request {
    blk: TuxReq,
    head: Option<Head>,
    body_read: u64,
    state: State,
}

impl Request {
    /// Wraps a request block returned by `EVENTLOOP`.
    pub fn from_block(blk: TuxReq) -> Request {
        Request {
            blk,
            head: None,
            body_read: 0,
            state: State::Open,
        }
    }

    /// The request block as the kernel returned it.
    pub fn block(&self) -> &TuxReq {
        &self.blk
    }

    /// The kernel's handle of the request.
    pub fn id(&self) -> u64 {
        self.blk.id
    }

    /// The index of the module it was routed to.
    pub fn module_index(&self) -> u32 {
        self.blk.module_index
    }

    /// The method.
    pub fn method(&self) -> Method {
        Method::from_abi(self.blk.http_method)
    }

    /// Whether this is a HEAD request (answers carry no body).
    pub fn is_head(&self) -> bool {
        self.blk.http_method == method::HEAD
    }

    /// The protocol version.
    pub fn http_version(&self) -> HttpVersion {
        if self.blk.http_version == http_version::HTTP_1_0 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        }
    }

    /// Whether the connection may be kept after this request.
    pub fn keep_alive(&self) -> bool {
        self.blk.keep_alive != 0
    }

    /// The client's address (`None` for an unknown family): IPv4 or IPv6. An
    /// IPv4 client of TUX's dual-stack listener is IPv4 here, never an
    /// IPv4-mapped IPv6 address.
    pub fn client_addr(&self) -> Option<IpAddr> {
        client_ip(&self.blk)
    }

    /// The client's TCP port.
    pub fn client_port(&self) -> u16 {
        u16::try_from(self.blk.client_port).unwrap_or(0)
    }

    /// The length of the request body (Content-Length), 0 without one.
    pub fn body_len(&self) -> u64 {
        self.blk.body_len
    }

    /// The module's state word for this request (0 the first time).
    pub fn event(&self) -> u32 {
        self.blk.event
    }

    /// Sets the state word; it comes back unchanged with the request (after
    /// [`Request::postpone`]).
    pub fn set_event(&mut self, event: u32) {
        self.blk.event = event;
    }

    /// The module's pointer-sized value for this request.
    pub fn private(&self) -> u64 {
        self.blk.private
    }

    /// Sets the pointer-sized value kept with the request.
    pub fn set_private(&mut self, private: u64) {
        self.blk.private = private;
    }

    /// Body bytes sent to the client so far, as the kernel counts them.
    pub fn bytes_sent(&self) -> u64 {
        self.blk.bytes_sent
    }

    /// Calls a per-request action with a copy of the block (module-owned
    /// fields included), and keeps the kernel's outputs.
    fn act(&mut self, action: Action, set: impl FnOnce(&mut TuxReq)) -> Result<i64> {
        let mut b = self.blk;
        b.buf = 0;
        b.buf_len = 0;
        b.name = 0;
        b.name_len = 0;
        b.value = 0;
        b.value_len = 0;
        b.offset = 0;
        set(&mut b);
        let r = call(action, Some(&mut b));
        self.blk.error = b.error;
        self.blk.bytes_sent = b.bytes_sent;
        if action == Action::GetObject && r.is_ok() {
            self.blk.object_len = b.object_len;
            self.blk.object_mtime = b.object_mtime;
        }
        if action == Action::ReadHeaders {
            self.blk.headers_len = b.headers_len;
        }
        r
    }

    /// The parsed request head, read once with `READ_HEADERS`.
    pub fn head(&mut self) -> Result<&Head> {
        if self.head.is_none() {
            let raw = self.read_raw_head()?;
            self.head = Some(Head::parse(&raw)?);
        }
        self.head.as_ref().ok_or(Error::AlreadyFinished)
    }

    /// The raw request head (`READ_HEADERS`), request line to empty line.
    pub fn read_raw_head(&mut self) -> Result<Vec<u8>> {
        let mut want = if self.blk.headers_len == 0 {
            16 * 1024
        } else {
            self.blk.headers_len
        };
        for _ in 0..2 {
            let len = usize::try_from(want.min(MAX_HEAD)).unwrap_or(0);
            let mut buf = vec![0u8; len];
            let ptr = buf.as_mut_ptr() as u64;
            match self.act(Action::ReadHeaders, |b| {
                b.buf = ptr;
                b.buf_len = len as u64;
            }) {
                Ok(n) => {
                    buf.truncate(usize::try_from(n).unwrap_or(0).min(len));
                    return Ok(buf);
                }
                Err(e)
                    if e.is(Action::ReadHeaders, libc::ENOSPC) && self.blk.headers_len > want =>
                {
                    want = self.blk.headers_len;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Sys {
            action: Action::ReadHeaders,
            errno: crate::Errno(libc::ENOSPC),
        })
    }

    /// The raw (percent-encoded) path of the target.
    pub fn path(&mut self) -> Result<&str> {
        Ok(&self.head()?.path)
    }

    /// The raw query string after `?`, if any.
    pub fn query(&mut self) -> Result<Option<&str>> {
        Ok(self.head()?.query.as_deref())
    }

    /// Every header field, in order.
    pub fn headers(&mut self) -> Result<&[Field]> {
        Ok(&self.head()?.fields)
    }

    /// The first header named `name` (case-insensitive), if it is text.
    pub fn header(&mut self, name: &str) -> Result<Option<&str>> {
        Ok(self.head()?.header(name))
    }

    /// Every cookie, `(name, value)`, in order.
    pub fn cookies(&mut self) -> Result<Vec<(&str, &str)>> {
        Ok(self.head()?.cookies())
    }

    /// The first cookie named `name`.
    pub fn cookie(&mut self, name: &str) -> Result<Option<&str>> {
        Ok(self.head()?.cookie(name))
    }

    /// Reads body bytes (`READ_POST_DATA`), never more than the body has
    /// left. Returns 0 at the end.
    pub fn read_body(&mut self, buf: &mut [u8]) -> Result<usize> {
        let left = self.blk.body_len.saturating_sub(self.body_read);
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let ptr = buf.as_mut_ptr() as u64;
        let got = self.act(Action::ReadPostData, |b| {
            b.buf = ptr;
            b.buf_len = n as u64;
        })?;
        let got = usize::try_from(got).unwrap_or(0).min(n);
        self.body_read = self.body_read.saturating_add(got as u64);
        Ok(got)
    }

    /// Reads the whole body, refusing one longer than `limit` bytes
    /// ([`Error::BodyTooLarge`], which answers 413).
    pub fn read_body_to_end(&mut self, limit: u64) -> Result<Vec<u8>> {
        if self.blk.body_len > limit {
            return Err(Error::BodyTooLarge(self.blk.body_len));
        }
        let cap = usize::try_from(self.blk.body_len.saturating_sub(self.body_read)).unwrap_or(0);
        let mut out = vec![0u8; cap];
        let mut at = 0;
        while at < out.len() {
            let n = self.read_body(out.get_mut(at..).unwrap_or(&mut []))?;
            if n == 0 {
                break;
            }
            at += n;
        }
        out.truncate(at);
        Ok(out)
    }

    /// Sends raw bytes with `SEND_BUFFER` until all are sent.
    fn send_raw(&mut self, mut data: &[u8]) -> Result<()> {
        let mut retries = 0;
        while !data.is_empty() {
            let (ptr, len) = (data.as_ptr() as u64, data.len() as u64);
            match self.act(Action::SendBuffer, |b| {
                b.buf = ptr;
                b.buf_len = len;
            }) {
                Ok(0) => return Err(Error::ShortSend),
                Ok(n) => {
                    let n = usize::try_from(n).unwrap_or(data.len()).min(data.len());
                    data = data.get(n..).unwrap_or(&[]);
                }
                Err(e)
                    if e.errno().map(|e| e.0) == Some(libc::EINTR) && retries < EINTR_RETRIES =>
                {
                    retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn check_open(&self) -> Result<()> {
        match self.state {
            State::Open => Ok(()),
            State::HeadSent { .. } => Err(Error::HeadAlreadySent),
            State::Done(_) => Err(Error::AlreadyFinished),
        }
    }

    /// Answers with `status`, the extra `headers` and `body`, then finishes
    /// the request. Adds Date, Server, Content-Length and Connection
    /// (`close` when the client does not keep the connection). A HEAD
    /// request gets the head only.
    ///
    /// ```no_run
    /// # fn h(req: &mut libtux::Request) -> libtux::Result<libtux::Outcome> {
    /// req.respond(200, &[("Content-Type", "text/plain")], b"hi\n")
    /// # }
    /// ```
    pub fn respond(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Outcome> {
        self.check_open()?;
        let keep = self.keep_alive();
        let head = build_head(&ResponseHead {
            status,
            reason: None,
            headers,
            content_length: Some(body.len() as u64),
            keep_alive: keep,
            date: now_secs(),
        })?;
        let body = if self.is_head() || status_has_no_body(status) {
            &[][..]
        } else {
            body
        };
        // From here on, part of the answer may be out: a failure can only
        // close the connection, never start another answer.
        self.state = State::HeadSent {
            status,
            close: !keep,
            head_only: true,
        };
        if body.len() <= COALESCE {
            let mut all = head;
            all.extend_from_slice(body);
            self.send_raw(&all)?;
        } else {
            self.send_raw(&head)?;
            self.send_raw(body)?;
        }
        self.finish()
    }

    /// Answers with a short plain-text page for `status` and closes the
    /// connection (for errors).
    pub fn respond_error(&mut self, status: u16) -> Result<Outcome> {
        self.blk.keep_alive = 0;
        let body = format!("{} {}\n", status, crate::head::reason_phrase(status));
        self.respond(status, &[("Content-Type", "text/plain")], body.as_bytes())
    }

    /// Sends the head of a streamed response. With `content_length`, the
    /// module must then send exactly that many body bytes; without, the
    /// body ends when the connection closes. Continue with
    /// [`Request::send_body`] and end with [`Request::finish`].
    pub fn start_response(
        &mut self,
        status: u16,
        reason: Option<&str>,
        headers: &[(&str, &str)],
        content_length: Option<u64>,
    ) -> Result<()> {
        self.check_open()?;
        let keep = self.keep_alive() && content_length.is_some();
        let head = build_head(&ResponseHead {
            status,
            reason,
            headers,
            content_length,
            keep_alive: keep,
            date: now_secs(),
        })?;
        self.state = State::HeadSent {
            status,
            close: !keep,
            head_only: self.is_head() || status_has_no_body(status),
        };
        self.send_raw(&head)
    }

    /// Sends body bytes after [`Request::start_response`] (nothing for a
    /// HEAD request).
    pub fn send_body(&mut self, data: &[u8]) -> Result<()> {
        match self.state {
            State::HeadSent {
                head_only: true, ..
            } => Ok(()),
            State::HeadSent { .. } => self.send_raw(data),
            State::Open => Err(Error::BadHeader("send_body before start_response".into())),
            State::Done(_) => Err(Error::AlreadyFinished),
        }
    }

    /// Whether the response head went out (and the request is not finished).
    pub fn head_sent(&self) -> bool {
        matches!(self.state, State::HeadSent { .. })
    }

    /// Whether the request was finished, postponed or redirected.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Finishes the request after its response went out, with the status
    /// for the access log: `FINISH_REQ`, or `FINISH_CLOSE_REQ` when the
    /// connection must close.
    pub fn finish(&mut self) -> Result<Outcome> {
        let (status, close) = match self.state {
            State::HeadSent { status, close, .. } => (status, close),
            State::Open => (500, true),
            State::Done(_) => return Err(Error::AlreadyFinished),
        };
        self.finish_with(status, close)
    }

    /// Finishes and closes the connection (for a response cut short).
    pub fn abort(&mut self) -> Result<Outcome> {
        let status = match self.state {
            State::HeadSent { status, .. } => status,
            State::Open => 500,
            State::Done(_) => return Err(Error::AlreadyFinished),
        };
        self.finish_with(status, true)
    }

    fn finish_with(&mut self, status: u16, close: bool) -> Result<Outcome> {
        let action = if close {
            Action::FinishCloseReq
        } else {
            Action::FinishReq
        };
        // Whatever the kernel says, the request is no longer ours to answer.
        self.state = State::Done(Outcome::Finished);
        self.act(action, |b| b.http_status = u32::from(status))?;
        Ok(Outcome::Finished)
    }

    /// Looks `name` up beneath the document root (`GET_OBJECT`); leading
    /// slashes are ignored.
    pub fn get_object(&mut self, name: &str) -> Result<ObjectInfo> {
        let rel = name.trim_start_matches('/');
        if rel.is_empty() || rel.len() as u64 > 4096 || rel.as_bytes().contains(&0) {
            return Err(Error::BadName(format!("object name {name:?}")));
        }
        let (ptr, len) = (rel.as_ptr() as u64, rel.len() as u64);
        self.act(Action::GetObject, |b| {
            b.name = ptr;
            b.name_len = len;
        })?;
        Ok(ObjectInfo {
            len: self.blk.object_len,
            mtime: self.blk.object_mtime,
        })
    }

    /// Copies object bytes from `offset` into `buf` (`READ_OBJECT`) after
    /// [`Request::get_object`]; 0 at the end.
    pub fn read_object(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let (ptr, len) = (buf.as_mut_ptr() as u64, buf.len() as u64);
        let n = self.act(Action::ReadObject, |b| {
            b.buf = ptr;
            b.buf_len = len;
            b.offset = offset;
        })?;
        Ok(usize::try_from(n).unwrap_or(0).min(buf.len()))
    }

    /// Serves the file `path` beneath the document root: `GET_OBJECT`, a
    /// 200 head with Content-Type (by extension), Content-Length and
    /// Last-Modified, then `SEND_OBJECT` (zero-copy) and `FINISH_REQ`.
    /// A missing file is an error whose [`Error::http_status`] is 404 (403
    /// for one not world-readable); nothing has been sent then.
    pub fn send_file(&mut self, path: &str) -> Result<Outcome> {
        self.check_open()?;
        let obj = self.get_object(path)?;
        let ctype = String::from_utf8_lossy(tux_http::mime::content_type(path.as_bytes(), &[]))
            .into_owned();
        let lm = tux_http::date::format_http_date(obj.mtime);
        let lm = String::from_utf8_lossy(&lm).into_owned();
        self.start_response(
            200,
            None,
            &[("Content-Type", &ctype), ("Last-Modified", &lm)],
            Some(obj.len),
        )?;
        if !self.is_head() {
            let mut sent = 0u64;
            while sent < obj.len {
                match self.act(Action::SendObject, |b| {
                    b.offset = sent;
                    b.buf_len = 0;
                }) {
                    Ok(0) => return Err(Error::ShortSend),
                    Ok(n) => sent = sent.saturating_add(u64::try_from(n).unwrap_or(0)),
                    Err(e) if e.errno().map(|e| e.0) == Some(libc::EINTR) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.finish()
    }

    /// Parks the request (`POSTPONE_REQ`): no event loop returns it until
    /// the returned handle's [`Postponed::continue_`]. Set
    /// [`Request::set_event`] first to know where you were when it comes
    /// back.
    pub fn postpone(&mut self) -> Result<Postponed> {
        self.check_open()?;
        self.act(Action::PostponeReq, |_| {})?;
        self.state = State::Done(Outcome::Postponed);
        Ok(Postponed { blk: self.blk })
    }

    /// Hands the connection to the fallback server on `clientport`
    /// (`REDIRECT_REQ`), with the request bytes still unread. Only before
    /// anything was sent.
    pub fn redirect(&mut self) -> Result<Outcome> {
        self.check_open()?;
        self.act(Action::RedirectReq, |_| {})?;
        self.state = State::Done(Outcome::Redirected);
        Ok(Outcome::Redirected)
    }

    /// [`Request::redirect`], or, when no fallback server takes the connection, a
    /// `502 Bad Gateway` that says why.
    pub fn redirect_or_bad_gateway(&mut self) -> Result<Outcome> {
        match self.redirect() {
            Ok(o) => Ok(o),
            Err(e) => self.respond(
                502,
                &[("Content-Type", "text/plain")],
                format!("no fallback server: {e}\n").as_bytes(),
            ),
        }
    }
}

/// The client address of a request block.
pub(crate) fn client_ip(b: &TuxReq) -> Option<IpAddr> {
    match i32::try_from(b.client_family).ok()? {
        libc::AF_INET => {
            let [a, bb, c, d, ..] = b.client_addr;
            Some(IpAddr::V4(Ipv4Addr::new(a, bb, c, d)))
        }
        libc::AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(b.client_addr))),
        _ => None,
    }
}

/// A postponed request. It is `Send`: hand it to another thread, which
/// calls [`Postponed::continue_`] when the work is done; the request then
/// comes back through some event loop of this process, with its `event`
/// and `private` as they were.
#[derive(Debug)]
pub struct Postponed {
    blk: TuxReq,
}

impl Postponed {
    /// The kernel's handle of the request.
    pub fn id(&self) -> u64 {
        self.blk.id
    }

    /// Queues the request to its module's event loops again (`CONTINUE_REQ`).
    pub fn continue_(self) -> Result<()> {
        let mut b = crate::sys::new_req();
        b.id = self.blk.id;
        b.event = self.blk.event;
        b.private = self.blk.private;
        call(Action::ContinueReq, Some(&mut b)).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blk() -> TuxReq {
        TuxReq {
            http_method: method::HEAD,
            http_version: http_version::HTTP_1_0,
            client_family: libc::AF_INET as u32,
            client_addr: [10, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            client_port: 40000,
            keep_alive: 1,
            event: 7,
            ..TuxReq::default()
        }
    }

    #[test]
    fn block_accessors() {
        let mut r = Request::from_block(blk());
        assert_eq!(r.method(), Method::Head);
        assert!(r.is_head());
        assert_eq!(r.http_version(), HttpVersion::Http10);
        assert_eq!(
            r.client_addr(),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2)))
        );
        assert_eq!(r.client_port(), 40000);
        assert!(r.keep_alive());
        assert_eq!(r.event(), 7);
        r.set_event(8);
        r.set_private(99);
        assert_eq!((r.event(), r.private()), (8, 99));
        assert!(!r.is_done() && !r.head_sent());
        assert_eq!(Method::from_abi(1234), Method::Other);
    }

    #[test]
    fn ipv6_and_unknown_families() {
        let mut b = blk();
        b.client_family = libc::AF_INET6 as u32;
        b.client_addr = Ipv6Addr::LOCALHOST.octets();
        assert_eq!(client_ip(&b), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        b.client_family = 0;
        assert_eq!(client_ip(&b), None);
    }

    #[test]
    fn body_reads_stop_at_body_len_without_a_syscall() {
        let mut r = Request::from_block(blk());
        let mut buf = [0u8; 8];
        assert_eq!(r.read_body(&mut buf).unwrap(), 0);
        assert_eq!(r.read_body_to_end(10).unwrap(), Vec::<u8>::new());
        let mut b = blk();
        b.body_len = 100;
        let mut r = Request::from_block(b);
        assert!(matches!(
            r.read_body_to_end(10),
            Err(Error::BodyTooLarge(100))
        ));
    }

    #[test]
    fn state_machine_refuses_misuse_without_syscalls() {
        let mut r = Request::from_block(blk());
        assert!(matches!(r.send_body(b"x"), Err(Error::BadHeader(_))));
        // A bad header is refused before anything is sent.
        assert!(matches!(
            r.respond(200, &[("Content-Length", "1")], b"x"),
            Err(Error::BadHeader(_))
        ));
        assert!(!r.head_sent());
    }
}
