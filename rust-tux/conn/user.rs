// SPDX-License-Identifier: GPL-2.0

//! A connection whose request a userspace module answers.
//!
//! While a module owns the request (`Connection::in_user`), the request
//! head and whatever followed it stay at the start of the connection's
//! input; the connection's own work does nothing, and the module acts on
//! the socket through `tux(2)` from its own thread: reading the head and
//! body, sending buffers and files. Those calls block interruptibly and
//! never longer than `module_timeout` without progress: the sweeper expires
//! a connection whose module stalls, which wakes the caller with
//! `ECONNRESET` and answers the client 504 if nothing was sent yet.
//!
//! When the module finishes, the request's bytes are consumed, the rest of
//! an unread body is discarded as for any request, and the connection goes
//! on with its next request (keep-alive) or closes.

use super::{Connection, Inner};
use crate::{
    cache::Cached,
    clock,
    http::{
        date::{format_http_date, Now},
        parser::{self, Parse},
        path,
        plan::{Body, Lookup, ObjectKind},
        status::Status,
    },
    netns::Instance,
    serve::{error_plan, log_line, lookup, PATH_BUF},
    user::Info,
};
use core::net::IpAddr;
use kernel::{
    bindings,
    fs::{path::read_at, File, LocalFile},
    prelude::*,
    sync::aref::ARef,
    sync::{atomic::Relaxed, Arc, CondVarTimeoutResult, MutexGuard},
    task::Task,
    time::msecs_to_jiffies,
    uaccess::{UserSliceReader, UserSliceWriter},
};

/// How long one wait for the socket lasts before conditions are checked again.
const WAIT_SLICE_MS: u32 = 100;

/// The module's side of a request.
pub(crate) struct UserReq {
    /// Length of the request head at the start of the input.
    head_len: usize,
    /// `Content-Length` of the body.
    body_len: u64,
    /// Body bytes given to the module so far.
    body_read: u64,
    /// Bytes sent to the client by the module.
    sent: u64,
    /// The object of `GET_OBJECT`.
    object: Option<Cached>,
    /// The socket of `WATCH_PROXY_SOCKET`.
    proxy: Option<ARef<File>>,
    /// What the client gets if the request is aborted before anything was sent.
    abort: Status,
}

impl UserReq {
    pub(crate) fn new(head_len: usize, body_len: u64) -> Self {
        Self {
            head_len,
            body_len,
            body_read: 0,
            sent: 0,
            object: None,
            proxy: None,
            abort: Status::GatewayTimeout,
        }
    }
}

/// What `GET_OBJECT` found.
pub(crate) struct ObjectInfo {
    pub(crate) size: u64,
    pub(crate) mtime: u64,
}

type Guard<'a> = MutexGuard<'a, Inner>;

impl Connection {
    /// Hands the request at the start of the input to `module` (from the work item,
    /// which already marked the connection as owned by userspace).
    pub(super) fn to_user(self: &Arc<Self>, module: u32, info: Info) {
        self.set_deadline(self.server.config.module_ms);
        let queued = self.server.user.enqueue(self.clone(), module, info);
        if queued.is_ok() {
            self.server.inst.stats.module_requests.add(1, Relaxed);
        } else {
            // The module went away meanwhile.
            self.user_abort(Status::ServiceUnavailable);
        }
    }

    /// Ends the module's ownership without an answer from it: the connection answers
    /// `status` if nothing was sent yet, and closes.
    pub(crate) fn user_abort(self: &Arc<Self>, status: Status) {
        if let Some(u) = self.inner.lock().user.as_mut() {
            u.abort = status;
        }
        self.server.inst.stats.module_aborted.add(1, Relaxed);
        self.expire();
    }

    /// Locks the connection for an action on its module request.
    fn user_lock(&self) -> Result<Guard<'_>> {
        let inner = self.inner.lock();
        if inner.user.is_none() || inner.stream.is_none() || self.expired.load(Relaxed) {
            return Err(ECONNRESET);
        }
        Ok(inner)
    }

    /// Waits a while for a socket event. Fails when the connection was expired (module
    /// timeout, server stop) or a signal is pending.
    fn user_wait(&self, inner: &mut Guard<'_>) -> Result {
        if self.expired.load(Relaxed) {
            return Err(ECONNRESET);
        }
        let r = self
            .user_wait
            .wait_interruptible_timeout(inner, msecs_to_jiffies(WAIT_SLICE_MS));
        if self.expired.load(Relaxed) || inner.user.is_none() || inner.stream.is_none() {
            return Err(ECONNRESET);
        }
        match r {
            CondVarTimeoutResult::Signal { .. } => Err(EINTR),
            _ => Ok(()),
        }
    }

    /// `READ_HEADERS`: copies the raw request head.
    pub(crate) fn user_read_headers(&self, mut out: UserSliceWriter) -> Result<usize> {
        let inner = self.user_lock()?;
        let n = inner.user.as_ref().map_or(0, |u| u.head_len);
        if out.len() < n {
            return Err(ENOSPC);
        }
        out.write_slice(inner.input.get(..n).ok_or(EINVAL)?)?;
        Ok(n)
    }

    /// `READ_POST_DATA`: copies body bytes, first those already received with the head,
    /// then from the socket. Returns 0 at the end of the body.
    pub(crate) fn user_read_body(&self, mut out: UserSliceWriter) -> Result<usize> {
        let mut inner = self.user_lock()?;
        loop {
            let i = &mut *inner;
            let Some(u) = i.user.as_mut() else {
                return Err(ECONNRESET);
            };
            let left = u.body_len.saturating_sub(u.body_read);
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(out.len());
            if want == 0 {
                return Ok(0);
            }
            // Body bytes that arrived with the head are in the input after it.
            let in_input = (i.used.saturating_sub(u.head_len) as u64).min(u.body_len);
            if u.body_read < in_input {
                let start = u.head_len.saturating_add(u.body_read as usize);
                let end = u.head_len.saturating_add(in_input as usize);
                let avail = i.input.get(start..end).ok_or(EINVAL)?;
                let n = avail.len().min(want);
                out.write_slice(avail.get(..n).ok_or(EINVAL)?)?;
                u.body_read = u.body_read.saturating_add(n as u64);
                return Ok(n);
            }
            // The rest comes from the socket, through the scratch buffer.
            let want = want.min(i.scratch.len());
            let (Some(stream), Some(buf)) = (i.stream.as_ref(), i.scratch.get_mut(..want)) else {
                return Err(ECONNRESET);
            };
            match stream.recv(buf) {
                Ok(0) => return Err(ECONNRESET),
                Ok(n) => {
                    // Counted before the copy: if the module's buffer is bad, these
                    // bytes are gone, but never read twice nor past the body.
                    u.body_read = u.body_read.saturating_add(n as u64);
                    self.server.inst.stats.bytes_received.add(n as u64, Relaxed);
                    self.set_deadline(self.server.config.module_ms);
                    out.write_slice(buf.get(..n).ok_or(EINVAL)?)?;
                    return Ok(n);
                }
                Err(e) if e == EAGAIN => {}
                Err(e) => return Err(e),
            }
            self.user_wait(&mut inner)?;
        }
    }

    /// Sends `data` on the socket, waiting for room; returns the bytes sent, fewer than
    /// asked only if a signal interrupted after some were sent.
    fn user_send_all(&self, inner: &mut Guard<'_>, len: usize) -> Result<usize> {
        let mut done = 0usize;
        while done < len {
            let i = &mut **inner;
            let (Some(stream), Some(chunk)) = (i.stream.as_ref(), i.scratch.get(done..len)) else {
                return Err(ECONNRESET);
            };
            match stream.send(chunk, false) {
                Ok(n) => {
                    done = done.saturating_add(n);
                    self.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                    if let Some(u) = i.user.as_mut() {
                        u.sent = u.sent.saturating_add(n as u64);
                    }
                    self.set_deadline(self.server.config.module_ms);
                }
                Err(e) if e == EAGAIN => match self.user_wait(inner) {
                    Ok(()) => {}
                    Err(e) if e == EINTR && done > 0 => return Ok(done),
                    Err(e) => return Err(e),
                },
                Err(_) => return Err(EPIPE),
            }
        }
        Ok(done)
    }

    /// `SEND_BUFFER`: sends the user's buffer. Returns the bytes sent.
    pub(crate) fn user_send_buffer(&self, mut data: UserSliceReader) -> Result<usize> {
        let mut inner = self.user_lock()?;
        let mut total = 0usize;
        while !data.is_empty() {
            let n = data.len().min(inner.scratch.len());
            data.read_slice(inner.scratch.get_mut(..n).ok_or(EINVAL)?)?;
            match self.user_send_all(&mut inner, n) {
                Ok(sent) if sent == n => total = total.saturating_add(sent),
                Ok(sent) => return Ok(total.saturating_add(sent)),
                Err(e) if total > 0 && e == EINTR => return Ok(total),
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }

    /// `GET_OBJECT`: looks up `name` (a URL path) beneath the document root.
    pub(crate) fn user_get_object(&self, mut name: UserSliceReader) -> Result<ObjectInfo> {
        let mut inner = self.user_lock()?;
        let i = &mut *inner;
        let len = name.len();
        let (raw, rest) = i
            .scratch
            .split_at_mut_checked(PATH_BUF)
            .ok_or(ENAMETOOLONG)?;
        let raw = raw.get_mut(..len).ok_or(ENAMETOOLONG)?;
        name.read_slice(raw)?;
        let (resolved_buf, key_buf) = rest.split_at_mut_checked(PATH_BUF).ok_or(EINVAL)?;
        let resolved = path::resolve_path(raw, resolved_buf).map_err(|_| ENOENT)?;
        let (found, object) = lookup(&self.server, None, resolved.path, key_buf);
        let meta = match found {
            Lookup::Found(m) => m,
            Lookup::NameTooLong => return Err(ENAMETOOLONG),
            Lookup::NotFound => return Err(ENOENT),
            _ => return Err(EACCES),
        };
        let object = object.ok_or(EACCES)?;
        if meta.kind != ObjectKind::File || !meta.world_readable || object.file.is_none() {
            return Err(EACCES);
        }
        if let Some(u) = i.user.as_mut() {
            u.object = Some(object);
        }
        Ok(ObjectInfo {
            size: meta.size,
            mtime: meta.mtime,
        })
    }

    /// `SEND_OBJECT`: sends `len` bytes (0: to the end) of the object from `offset`.
    pub(crate) fn user_send_object(&self, offset: u64, len: u64) -> Result<usize> {
        let mut inner = self.user_lock()?;
        let file = inner
            .user
            .as_ref()
            .and_then(|u| u.object.as_ref())
            .and_then(|o| o.file.clone())
            .ok_or(EINVAL)?;
        let size = inner
            .user
            .as_ref()
            .and_then(|u| u.object.as_ref())
            .map_or(0, |o| o.path.attributes().size);
        let end = if len == 0 {
            size
        } else {
            offset.saturating_add(len).min(size)
        };
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        let end = i64::try_from(end).map_err(|_| EINVAL)?;
        let start = pos;
        while pos < end {
            let left = usize::try_from(end.saturating_sub(pos)).unwrap_or(usize::MAX);
            let Some(stream) = inner.stream.as_ref() else {
                return Err(ECONNRESET);
            };
            match stream.send_file(&file, &mut pos, left.min(1 << 20), false) {
                Ok(0) => break,
                Ok(n) => {
                    self.server.inst.stats.bytes_sent.add(n as u64, Relaxed);
                    if let Some(u) = inner.user.as_mut() {
                        u.sent = u.sent.saturating_add(n as u64);
                    }
                    self.set_deadline(self.server.config.module_ms);
                }
                Err(e) if e == EAGAIN => match self.user_wait(&mut inner) {
                    Ok(()) => {}
                    Err(e) if e == EINTR && pos > start => break,
                    Err(e) => return Err(e),
                },
                Err(_) => return Err(EPIPE),
            }
        }
        Ok(usize::try_from(pos.saturating_sub(start)).unwrap_or(0))
    }

    /// `READ_OBJECT`: copies the object from `offset` into the user's buffer.
    pub(crate) fn user_read_object(&self, offset: u64, mut out: UserSliceWriter) -> Result<usize> {
        let mut inner = self.user_lock()?;
        let file = inner
            .user
            .as_ref()
            .and_then(|u| u.object.as_ref())
            .and_then(|o| o.file.clone())
            .ok_or(EINVAL)?;
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        let mut total = 0usize;
        while !out.is_empty() {
            let n = out.len().min(inner.scratch.len());
            let buf = inner.scratch.get_mut(..n).ok_or(EINVAL)?;
            let got = read_at(&file, buf, &mut pos)?;
            if got == 0 {
                break;
            }
            out.write_slice(buf.get(..got).ok_or(EINVAL)?)?;
            total = total.saturating_add(got);
        }
        Ok(total)
    }

    /// `WATCH_PROXY_SOCKET`: ties the socket `fd` of the calling process to the request.
    pub(crate) fn user_watch_proxy(&self, fd: i32) -> Result {
        let fd = u32::try_from(fd).map_err(|_| EBADF)?;
        let local = LocalFile::fget(fd).map_err(|_| EBADF)?;
        // SAFETY: this system call holds no `fdget_pos` on the file; the reference is only
        // polled, never read or written through.
        let file = unsafe { LocalFile::assume_no_fdget_pos(local) };
        // SAFETY: `file` is a valid file.
        if !unsafe { bindings::tux_file_is_socket(file.as_ptr()) } {
            return Err(ENOTSOCK);
        }
        let mut inner = self.user_lock()?;
        if let Some(u) = inner.user.as_mut() {
            u.proxy = Some(file);
        }
        Ok(())
    }

    /// `WAIT_PROXY_SOCKET`: waits, interruptibly, until the watched socket is readable
    /// (or closed). Bounded by `module_timeout`, as every wait of a module request.
    pub(crate) fn user_wait_proxy(&self, current: &Task) -> Result<usize> {
        let file = {
            let inner = self.user_lock()?;
            inner
                .user
                .as_ref()
                .and_then(|u| u.proxy.clone())
                .ok_or(EINVAL)?
        };
        loop {
            // SAFETY: `file` is a valid file (we hold a reference).
            if unsafe { bindings::tux_file_readable(file.as_ptr()) } {
                return Ok(1);
            }
            if self.expired.load(Relaxed) {
                return Err(ECONNRESET);
            }
            if current.signal_pending() {
                return Err(EINTR);
            }
            // SAFETY: may be called from any sleepable context.
            unsafe { bindings::msleep_interruptible(WAIT_SLICE_MS / 10) };
        }
    }

    /// `FINISH_REQ` / `FINISH_CLOSE_REQ`: logs the request, consumes it and goes on with
    /// the connection's next request, or closes.
    pub(crate) fn user_finish(self: &Arc<Self>, status: u32, close: bool, keep_alive: bool) {
        let mut inner = self.inner.lock();
        let Some(u) = inner.user.take() else {
            drop(inner);
            self.in_user.store(false, Relaxed);
            self.expire();
            return;
        };
        let code = u16::try_from(status)
            .ok()
            .filter(|c| (100..=999).contains(c))
            .unwrap_or(200);
        self.server.inst.stats.requests.add(1, Relaxed);
        self.server.inst.stats.response(code);
        if self.server.config.logging {
            inner.user_log(&self.server.inst, self.peer, code, u.sent, u.head_len);
        }
        let in_input = (inner.used.saturating_sub(u.head_len) as u64).min(u.body_len);
        let from_socket = u.body_read.saturating_sub(in_input);
        inner.consume(u.head_len.saturating_add(in_input as usize));
        inner.discard = u
            .body_len
            .saturating_sub(in_input)
            .saturating_sub(from_socket);
        drop(inner);
        self.in_user.store(false, Relaxed);
        if close || !keep_alive {
            self.expire();
        } else {
            self.set_deadline(self.server.config.keepalive_ms);
            self.kick();
        }
    }

    /// `REDIRECT_REQ`: moves the connection, request bytes included, to the fallback
    /// server. Only before the module read any of the body or sent anything.
    pub(crate) fn user_redirect(self: &Arc<Self>) -> Result {
        let port = self.server.config.clientport;
        if port == 0 {
            return Err(ECONNREFUSED);
        }
        let mut inner = self.user_lock()?;
        if inner
            .user
            .as_ref()
            .is_some_and(|u| u.sent > 0 || u.body_read > 0)
        {
            return Err(EBUSY);
        }
        let i = &mut *inner;
        let stream = i.stream.take().ok_or(ECONNRESET)?;
        let unread = i.input.get(..i.used).unwrap_or(&[]);
        match crate::handoff::hand_off(stream, unread, port, &self.server.inst.stats) {
            Ok(()) => {
                i.user = None;
                drop(inner);
                self.in_user.store(false, Relaxed);
                self.expire();
                Ok(())
            }
            Err((Some(mut back), e)) => {
                // Route the events to us again; if that fails, the connection closes.
                back.set_events(self.clone())?;
                i.stream = Some(back);
                Err(e)
            }
            Err((None, e)) => {
                drop(inner);
                self.expire();
                Err(e)
            }
        }
    }
}

impl Inner {
    /// Called when the connection closes: ends a module's ownership, answering the
    /// client if the module sent nothing. Returns whether a module owned the request.
    pub(super) fn user_closing(&mut self, conn: &Connection) -> bool {
        let Some(u) = self.user.take() else {
            return false;
        };
        conn.in_user.store(false, Relaxed);
        if u.sent == 0 {
            self.now.refresh(clock::real_seconds());
            let (plan, _) =
                error_plan(None, &conn.server.config, u.abort, self.now, &mut self.head);
            if let Some(stream) = self.stream.as_ref() {
                let _ = stream.send(self.head.get(..plan.head_len).unwrap_or(&[]), true);
                if let Body::Static(b) = plan.body {
                    let _ = stream.send(b, false);
                }
            }
            conn.server.inst.stats.requests.add(1, Relaxed);
            conn.server.inst.stats.response(plan.status.code());
            if conn.server.config.logging {
                self.user_log(
                    &conn.server.inst,
                    conn.peer,
                    plan.status.code(),
                    0,
                    u.head_len,
                );
            }
        }
        true
    }

    /// Logs the module request whose head is `input[..head_len]`.
    fn user_log(
        &mut self,
        inst: &Instance,
        peer: IpAddr,
        status: u16,
        bytes: u64,
        head_len: usize,
    ) {
        self.now.refresh(clock::real_seconds());
        let limits = parser::Limits {
            max_head_bytes: head_len.max(1),
            ..parser::Limits::DEFAULT
        };
        let head = self.input.get(..head_len).unwrap_or(&[]);
        let request = match parser::parse_request(head, &limits) {
            Ok(Parse::Complete { request, .. }) => Some(request),
            _ => None,
        };
        log_line(
            inst,
            peer,
            self.now,
            request.as_ref(),
            status,
            bytes,
            &mut self.scratch,
        );
    }
}

/// `CURRENT_DATE`: the server's `Date` value.
pub(crate) fn current_date() -> [u8; 29] {
    format_http_date(Now::at(clock::real_seconds()).secs())
}
