// SPDX-License-Identifier: GPL-2.0

//! Deciding and finding the answer to a parsed request: the userspace module or the
//! in-kernel handler that takes it, or the static object beneath the document root
//! (through the object cache) and the plan of its response; and the access-log line.
//!
//! Nothing here knows about connections or sockets: the engine (`conn`) hands in a
//! request and buffers, and gets back a plan and the file to send.

use crate::{
    cache::Cached,
    config::Config,
    http::{
        accesslog,
        date::Now,
        mime::{self, MimeEntry},
        parser::Request,
        plan::{self, Body, Lookup, ObjectKind, ObjectMeta, Route},
        status::Status,
    },
    netns::Instance,
    server::Shared,
    user::method_code,
};
use core::net::IpAddr;
use kernel::{
    bindings,
    fs::{
        path::{rename_generation, FileKind, Path},
        File,
    },
    prelude::*,
    str::CStr,
    sync::aref::ARef,
};

/// Room for a decoded path plus a virtual-host directory.
pub(crate) const PATH_BUF: usize = 4096 + 256;

/// Appends the access-log line of a request.
pub(crate) fn log_request(
    inst: &Instance,
    peer: IpAddr,
    now: Now,
    request: Option<&Request<'_>>,
    plan: &plan::Plan,
    buf: &mut [u8],
) {
    let bytes = match plan.body {
        Body::None => 0,
        Body::Static(b) => b.len() as u64,
        Body::File { len, .. } => len,
    };
    log_line(inst, peer, now, request, plan.status.code(), bytes, buf);
}

/// Appends an access-log line.
pub(crate) fn log_line(
    inst: &Instance,
    peer: IpAddr,
    now: Now,
    request: Option<&Request<'_>>,
    status: u16,
    bytes: u64,
    buf: &mut [u8],
) {
    let record = accesslog::Record {
        client: peer,
        time: now.secs(),
        request,
        status,
        bytes,
    };
    let n = accesslog::format_line(&record, buf);
    if let Some(line) = buf.get(..n) {
        inst.log.append(line, &inst.stats);
    }
}

/// Plans an error response, falling back to a 500 if even that head does not fit.
pub(crate) fn error_plan(
    req: Option<&Request<'_>>,
    cfg: &Config,
    status: Status,
    now: Now,
    head: &mut [u8],
) -> (plan::Plan, Option<ARef<File>>) {
    let plan = plan::plan_error(req, &cfg.plan, status, now, head)
        .or_else(|_| plan::plan_error(None, &cfg.plan, Status::InternalServerError, now, head))
        .unwrap_or(plan::Plan {
            status: Status::InternalServerError,
            head_len: 0,
            body: Body::None,
            keep_alive: false,
            discard: 0,
        });
    (plan, None)
}

/// Routes, looks up and plans a parsed request; returns the plan and the file to send.
pub(crate) fn respond(
    req: &Request<'_>,
    server: &Shared,
    scratch: &mut [u8],
    head: &mut [u8],
    now: Now,
) -> (plan::Plan, Option<ARef<File>>) {
    let cfg = &server.config;
    let Some((route_buf, rest)) = scratch.split_at_mut_checked(PATH_BUF) else {
        return error_plan(Some(req), cfg, Status::InternalServerError, now, head);
    };
    let Some((index_buf, rest)) = rest.split_at_mut_checked(PATH_BUF) else {
        return error_plan(Some(req), cfg, Status::InternalServerError, now, head);
    };
    let Some((gz_buf, key_buf)) = rest.split_at_mut_checked(PATH_BUF) else {
        return error_plan(Some(req), cfg, Status::InternalServerError, now, head);
    };
    let target = match plan::route(req, &cfg.plan, route_buf) {
        Route::Static(t) => t,
        Route::Error(status) => return error_plan(Some(req), cfg, status, now, head),
    };
    let host = target.host_dir;
    let (mut found, mut object) = lookup(server, host, target.path, key_buf);
    let mut name: &[u8] = target.path;
    let mut index = false;
    if plan::needs_index(&target, &found) {
        match plan::index_path(target.path, index_buf) {
            Some(n) => {
                name = n;
                index = true;
                (found, object) = lookup(server, host, name, key_buf);
            }
            None => return error_plan(Some(req), cfg, Status::UriTooLong, now, head),
        }
    }
    let mut gz_object = None;
    let mut gzip = None;
    if target.wants_gzip && matches!(found, Lookup::Found(m) if m.kind == ObjectKind::File) {
        if let Some(gz_name) = plan::gz_path(name, gz_buf) {
            if let (Lookup::Found(m), Some(o)) = lookup(server, host, gz_name, key_buf) {
                gzip = Some(m);
                gz_object = Some(o);
            }
        }
    }
    let obj = plan::Object {
        name,
        lookup: found,
        index,
        gzip,
    };
    // A MIME type registered through tux(2) for this extension, if any.
    let extra: [MimeEntry<'_>; 1];
    let with_types: plan::Config<'_>;
    let plan_cfg = match server.registered_type(name) {
        Some(entry) => {
            extra = [entry];
            with_types = plan::Config {
                mime_types: &extra,
                ..cfg.plan
            };
            &with_types
        }
        None => &cfg.plan,
    };
    // The head fields describing the object, as an earlier response formatted them,
    // copied into `gz_buf` (free again once the `.gz` variant was looked up).
    let key_len = object_key(host, name, key_buf);
    let key = key_len.and_then(|n| key_buf.get(..n));
    let cached = key.and_then(|k| server.cache.fields(k, gz_buf));
    let mut fields = plan::HeadFields {
        cached: cached.and_then(|(state, n)| Some((state, gz_buf.get(..n)?))),
        fresh: None,
    };
    let plan = match plan::plan_static_with(req, plan_cfg, &target, &obj, now, head, &mut fields) {
        Ok(p) => p,
        Err(_) => return error_plan(Some(req), cfg, Status::InternalServerError, now, head),
    };
    if let (Some(k), Some((state, range))) = (key, fields.fresh) {
        if let Some(bytes) = head.get(range) {
            server.cache.set_fields(k, state, bytes);
        }
    }
    let Body::File { gzip, .. } = plan.body else {
        return (plan, None);
    };
    let chosen = if gzip { gz_object } else { object };
    match chosen.and_then(|c| c.file) {
        Some(file) => (plan, Some(file)),
        // Raced with a change (replaced by a directory, permissions): refuse cleanly.
        None => error_plan(Some(req), cfg, Status::Forbidden, now, head),
    }
}

impl Shared {
    /// The MIME type registered for the extension of `name`, if any.
    fn registered_type(&self, name: &[u8]) -> Option<MimeEntry<'_>> {
        if self.mime_types.is_empty() {
            return None;
        }
        let ext = mime::extension(name)?;
        self.mime_types
            .iter()
            .find(|m| m.ext.eq_ignore_ascii_case(ext) && !mime::is_special(&m.ty))
            .map(|m| (m.ext.as_slice(), m.ty.as_slice()))
    }

    /// Whether files named like `path` go to the fallback server: their extension
    /// was registered with the special type [`mime::TYPE_REDIRECT`].
    pub(crate) fn redirected(&self, path: &[u8]) -> bool {
        if self.mime_types.is_empty() {
            return false;
        }
        let Some(ext) = mime::extension(path) else {
            return false;
        };
        self.mime_types
            .iter()
            .any(|m| m.ext.eq_ignore_ascii_case(ext) && m.ty.as_slice() == mime::TYPE_REDIRECT)
    }
}

/// A plan and the file it sends, if any.
pub(crate) type Planned = (plan::Plan, Option<ARef<File>>);

/// Room for the body of an in-kernel handler.
const GENERATED_MAX: usize = 16 * 1024;

/// Answers the request with an in-kernel handler, if one covers its path: the plan
/// and the length of the body written into `body`.
pub(crate) fn kernel_answer(
    req: &Request<'_>,
    cfg: &Config,
    scratch: &mut [u8],
    body: &mut KVec<u8>,
    head: &mut [u8],
    now: Now,
) -> Option<(Planned, usize)> {
    if !crate::khandler::any() {
        return None;
    }
    let buf = scratch.get_mut(..PATH_BUF)?;
    let path = plan::module_path(req, buf)?;
    let call = crate::khandler::find(path)?;
    if body.is_empty() {
        match KVec::zeroed(GENERATED_MAX, GFP_KERNEL) {
            Ok(b) => *body = b,
            Err(_) => {
                return Some((
                    error_plan(Some(req), cfg, Status::ServiceUnavailable, now, head),
                    0,
                ))
            }
        }
    }
    let mut ct = [0u8; 128];
    let method = method_code(&req.method);
    let answer = call.handle(path, req.query, method, body, &mut ct);
    drop(call);
    let planned = answer.ok().and_then(|(len, ct_len)| {
        let ct = ct.get(..ct_len).unwrap_or(&[]);
        let p = plan::plan_generated(req, &cfg.plan, ct, len, now, head).ok()?;
        Some(((p, None), if req.is_head() { 0 } else { len }))
    });
    Some(planned.unwrap_or_else(|| {
        (
            error_plan(Some(req), cfg, Status::InternalServerError, now, head),
            0,
        )
    }))
}

/// With virtual hosting, whether the request names a host that has no directory
/// beneath the document root: such requests go to the fallback server.
pub(crate) fn unknown_host(req: &Request<'_>, server: &Shared, scratch: &mut [u8]) -> bool {
    if !server.config.plan.virtual_server {
        return false;
    }
    let Some((route_buf, rest)) = scratch.split_at_mut_checked(PATH_BUF) else {
        return false;
    };
    let Route::Static(target) = plan::route(req, &server.config.plan, route_buf) else {
        return false;
    };
    let Some(host) = target.host_dir else {
        return false;
    };
    matches!(lookup(server, Some(host), b"", rest).0, Lookup::NotFound)
}

/// The userspace module whose prefix covers the request's path, if any.
pub(crate) fn module_for(req: &Request<'_>, server: &Shared, scratch: &mut [u8]) -> Option<u32> {
    if !server.user.has_modules() {
        return None;
    }
    let (buf, key_buf) = scratch.split_at_mut_checked(PATH_BUF)?;
    let path = plan::module_path(req, buf)?;
    let (module, by_file) = server.user.route(path)?;
    if by_file {
        // A classic module name: only while the file of that name may be served.
        let (found, _) = lookup(server, None, path, key_buf);
        let servable = matches!(
            found,
            Lookup::Found(ObjectMeta {
                kind: ObjectKind::File,
                world_readable: true,
                ..
            })
        );
        if !servable {
            return None;
        }
    }
    Some(module)
}

/// Writes `[host/]name` into `buf` followed by a NUL; returns the length without it.
fn object_key(host: Option<&[u8]>, name: &[u8], buf: &mut [u8]) -> Option<usize> {
    let parts: [&[u8]; 3] = match (host, name.is_empty()) {
        (Some(h), true) => [h, b"", b""],
        (Some(h), false) => [h, b"/", name],
        (None, true) => [b".", b"", b""],
        (None, false) => [name, b"", b""],
    };
    let mut len = 0usize;
    for part in parts {
        let end = len.checked_add(part.len())?;
        buf.get_mut(len..end)?.copy_from_slice(part);
        len = end;
    }
    *buf.get_mut(len)? = 0;
    Some(len)
}

/// Looks up `[host/]name` (relative, already resolved by the HTTP core) beneath the
/// document root, through the object cache. Regular files that may be served are
/// opened, so that the cache can keep them open.
pub(crate) fn lookup(
    server: &Shared,
    host: Option<&[u8]>,
    name: &[u8],
    buf: &mut [u8],
) -> (Lookup, Option<Cached>) {
    let cfg = &server.config;
    let Some(len) = object_key(host, name, buf) else {
        return (Lookup::NameTooLong, None);
    };
    let (key, with_nul) = match (buf.get(..len), buf.get(..=len)) {
        (Some(k), Some(n)) => (k, n),
        _ => return (Lookup::NameTooLong, None),
    };
    let cached = match server.cache.get(key) {
        Some(c) => c,
        None => {
            let Ok(cname) = CStr::from_bytes_with_nul(with_nul) else {
                return (Lookup::NotFound, None);
            };
            let generation = rename_generation();
            let path = match lookup_as_nobody(&server.docroot, cname) {
                Ok(p) => p,
                Err(e) if e == ENOENT || e == ENOTDIR => return (Lookup::NotFound, None),
                // EXDEV/ELOOP: the name tried to leave the document root.
                Err(e) if e == EACCES || e == EPERM || e == EXDEV || e == ELOOP => {
                    return (Lookup::Forbidden, None)
                }
                Err(e) if e == ENAMETOOLONG => return (Lookup::NameTooLong, None),
                Err(_) => return (Lookup::Failed, None),
            };
            let a = path.attributes();
            let file = if a.kind == FileKind::Regular && cfg.mode_ok(a.permissions) {
                path.open_regular().ok()
            } else {
                None
            };
            if file.is_some() {
                server.cache.put(key, generation, &path, file.as_ref());
            }
            Cached { path, file }
        }
    };
    // Attributes are always read from the inode, so changes are seen at once.
    let a = cached.path.attributes();
    let (kind, readable) = match a.kind {
        FileKind::Regular => (ObjectKind::File, cfg.mode_ok(a.permissions)),
        FileKind::Directory => (ObjectKind::Dir, a.permissions & 0o005 == 0o005),
        FileKind::Other => (ObjectKind::Other, false),
    };
    let meta = ObjectMeta {
        size: a.size,
        mtime: u64::try_from(a.mtime).unwrap_or(0),
        kind,
        world_readable: readable,
    };
    (Lookup::Found(meta), Some(cached))
}

/// Looks `name` up beneath `docroot` as an unprivileged user would: every directory on
/// the way must be searchable by anyone (`EACCES` otherwise), so a world-readable file in
/// a private (0700) directory is not reached, while a user's 0711 directory is.
fn lookup_as_nobody(docroot: &Path, name: &CStr) -> Result<Path> {
    // SAFETY: no preconditions; the credentials are put back below, in this task, before
    // it does anything else.
    let old = unsafe { bindings::tux_lookup_creds_begin() };
    let path = docroot.lookup_beneath(name);
    // SAFETY: `old` is what `tux_lookup_creds_begin` returned in this task.
    unsafe { bindings::tux_lookup_creds_end(old) };
    path
}
