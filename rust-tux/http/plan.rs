// SPDX-License-Identifier: GPL-2.0

//! The request planner: from a parsed request to a response plan.
//!
//! File lookup is I/O, so planning is split in two pure steps:
//!
//! 1. [`route`] checks method and target and resolves the path (and the
//!    virtual-host directory). It yields a [`StaticTarget`] to look up, or
//!    an error status for [`plan_error`].
//! 2. The glue stats `docroot/[host_dir/]path`. If [`needs_index`] says
//!    so, it stats [`index_path`]`(path)` instead (and sets
//!    [`Object::index`]). If [`StaticTarget::wants_gzip`] is set it also
//!    stats [`gz_path`] of the final file name. Then [`plan_static`]
//!    evaluates conditionals and ranges and writes the head.

use super::cond::{self, ETag, RangeOutcome};
use super::date::Now;
use super::mime::{self, MimeEntry};
use super::parser::{Method, Request, TargetForm};
use super::path::{self, HostError, HOST_MAX};
use super::response::{
    write_head, write_head_parts, write_head_with_fields, ContentRange, HeadTooLarge, Location,
    ResponseHead,
};
use super::status::Status;

/// Server configuration consulted by the planner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'c> {
    /// Send `ETag` and honour If-None-Match / entity-tag If-Range.
    pub generate_etags: bool,
    /// Serve `docroot/<host>/...` instead of `docroot/...`.
    pub virtual_server: bool,
    /// Serve precompressed `<file>.gz` to clients accepting gzip.
    pub compression: bool,
    /// Allow persistent connections at all.
    pub keep_alive: bool,
    /// Host directory used when the request has no usable host name
    /// (absent, empty or an IP literal).
    pub default_vhost: &'c [u8],
    /// Extra MIME types consulted before the built-in table.
    pub mime_types: &'c [MimeEntry<'c>],
}

impl Config<'static> {
    /// ETags on, no virtual hosting, no compression, keep-alive on,
    /// default vhost `default`.
    pub const DEFAULT: Config<'static> = Config {
        generate_etags: true,
        virtual_server: false,
        compression: false,
        keep_alive: true,
        default_vhost: b"default",
        mime_types: &[],
    };
}

impl Default for Config<'static> {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// What to look up for a routed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticTarget<'b> {
    /// Decoded relative path below the (vhost) root; empty for the root.
    pub path: &'b [u8],
    /// Lower-case virtual-host directory, when virtual hosting is on.
    pub host_dir: Option<&'b [u8]>,
    /// The request path named a directory (ended in `/`).
    pub dir_request: bool,
    /// Compression is on and the client accepts gzip: look for `.gz` too.
    pub wants_gzip: bool,
}

/// The routing decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'b> {
    /// Look up a file.
    Static(StaticTarget<'b>),
    /// Answer with this status via [`plan_error`].
    Error(Status),
}

/// Routes a parsed request. `buf` receives the decoded path and host
/// directory; it should hold at least `PATH_MAX` (4096) bytes plus
/// [`HOST_MAX`] + 3 when virtual hosting is on (too small → 414).
pub fn route<'b>(req: &Request<'_>, cfg: &Config<'_>, buf: &'b mut [u8]) -> Route<'b> {
    match req.method {
        Method::Get | Method::Head => {}
        Method::Other(_) => return Route::Error(Status::NotImplemented),
        _ => return Route::Error(Status::MethodNotAllowed),
    }
    match req.target_form {
        TargetForm::Origin | TargetForm::Absolute => {}
        TargetForm::Authority | TargetForm::Asterisk => return Route::Error(Status::BadRequest),
    }
    let host_room = if cfg.virtual_server {
        HOST_MAX.saturating_add(3)
    } else {
        0
    };
    let Some((path_buf, host_buf)) = buf.split_at_mut_checked(buf.len().saturating_sub(host_room))
    else {
        return Route::Error(Status::InternalServerError);
    };
    let host_len = if cfg.virtual_server {
        let got = match req.host {
            Some(h) => path::vhost_dir(h, host_buf).map(|d| d.len()),
            None => Err(HostError::Empty),
        };
        match got {
            Ok(n) => Some(n),
            Err(HostError::Empty) => match path::vhost_dir(cfg.default_vhost, host_buf) {
                Ok(d) => Some(d.len()),
                Err(_) => return Route::Error(Status::InternalServerError),
            },
            Err(HostError::Invalid | HostError::TooLong) => {
                return Route::Error(Status::BadRequest)
            }
        }
    } else {
        None
    };
    let host_buf: &'b [u8] = host_buf;
    let host_dir = host_len.and_then(|n| host_buf.get(..n));
    match path::resolve_path(req.path, path_buf) {
        Ok(r) => Route::Static(StaticTarget {
            path: r.path,
            host_dir,
            dir_request: r.dir,
            wants_gzip: cfg.compression && req.accept_gzip,
        }),
        Err(e) => Route::Error(e.status()),
    }
}

/// Whether the glue should look up [`index_path`] next: the request named
/// a directory and the lookup found a searchable directory.
pub fn needs_index(target: &StaticTarget<'_>, lookup: &Lookup) -> bool {
    target.dir_request
        && matches!(
            lookup,
            Lookup::Found(ObjectMeta {
                kind: ObjectKind::Dir,
                world_readable: true,
                ..
            })
        )
}

/// Writes `dir/index.html` (or `index.html` for the root) into `out`.
pub fn index_path<'o>(dir: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    concat(
        dir,
        if dir.is_empty() {
            b"index.html"
        } else {
            b"/index.html"
        },
        out,
    )
}

/// Longest module prefix, without its leading `/`.
pub const MODULE_PREFIX_MAX: usize = 255;

/// Validates a module's route, as registered: a URL prefix (`/name` or
/// `/a/b`), a file extension (`*.php`) or a classic module name
/// (`hello.tux`, see [`is_module_file`]). A prefix must be in canonical
/// form (no empty, `.` or `..` segments, no trailing `/`, no `%`, `\\`,
/// control or non-ASCII bytes), so that matching it against resolved paths
/// cannot be dodged by encodings; an extension must pass
/// [`mime::valid_extension`]. Returns the route unchanged: it is the form
/// [`prefix_covers`] matches.
pub fn module_prefix(raw: &[u8]) -> Option<&[u8]> {
    if let Some(ext) = raw.strip_prefix(b"*.") {
        return mime::valid_extension(ext).then_some(raw);
    }
    let Some(rest) = raw.strip_prefix(b"/") else {
        return is_module_file(raw).then_some(raw);
    };
    if rest.is_empty() || rest.len() > MODULE_PREFIX_MAX {
        return None;
    }
    for seg in rest.split(|&b| b == b'/') {
        if seg.is_empty() || seg == b"." || seg == b".." {
            return None;
        }
        if seg
            .iter()
            .any(|&b| !b.is_ascii_graphic() || b == b'%' || b == b'\\' || b == b'?' || b == b'#')
        {
            return None;
        }
    }
    Some(raw)
}

/// Whether a module route is a classic module name (`hello.tux`: no `/`,
/// 1 to 64 ASCII letters, digits, `.`, `-` or `_`, not starting with `.`):
/// it covers the request for the file of that name at the top of the
/// document root, and only while that file exists and may be served (the
/// glue checks that), as classic TUX's module-named files did.
pub fn is_module_file(route: &[u8]) -> bool {
    !route.is_empty()
        && route.len() <= 64
        && route.first() != Some(&b'.')
        && route
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Whether a module route (from [`module_prefix`]) covers the resolved
/// request path `path` (relative, as [`route`] produces it): for a prefix,
/// the path is the prefix itself or lies beneath it; for an extension, its
/// last segment ends in it; for a module name, the path is that name.
pub fn prefix_covers(route: &[u8], path: &[u8]) -> bool {
    if let Some(ext) = route.strip_prefix(b"*.") {
        // The last segment ends in `.ext` (and is more than that).
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        return name.len() > ext.len().saturating_add(1)
            && mime::extension(name).is_some_and(|e| e.eq_ignore_ascii_case(ext));
    }
    let Some(prefix) = route.strip_prefix(b"/") else {
        return is_module_file(route) && path == route;
    };
    match path.strip_prefix(prefix) {
        Some(rest) => !prefix.is_empty() && (rest.is_empty() || rest.first() == Some(&b'/')),
        None => false,
    }
}

/// Resolves the path of `req` into `buf` for module matching, whatever its
/// method; `None` if it does not resolve (static routing then answers it).
pub fn module_path<'b>(req: &Request<'_>, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    match req.target_form {
        TargetForm::Origin | TargetForm::Absolute => {}
        TargetForm::Authority | TargetForm::Asterisk => return None,
    }
    path::resolve_path(req.path, buf).ok().map(|r| r.path)
}

/// Whether a request with this method is handed to the fallback server
/// (when one listens): TUX itself answers only GET and HEAD.
pub fn hands_off(method: &Method<'_>) -> bool {
    !matches!(method, Method::Get | Method::Head)
}

/// Writes `file.gz` into `out`.
pub fn gz_path<'o>(file: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    if file.is_empty() {
        return None;
    }
    concat(file, b".gz", out)
}

fn concat<'o>(a: &[u8], b: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let total = a.len().checked_add(b.len())?;
    let dst = out.get_mut(..total)?;
    let (da, db) = dst.split_at_mut_checked(a.len())?;
    da.copy_from_slice(a);
    db.copy_from_slice(b);
    Some(dst)
}

/// Kind of filesystem object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// Anything else (device, FIFO, socket...).
    Other,
}

/// What the glue learnt from stat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch (negative → 0).
    pub mtime: u64,
    /// Kind.
    pub kind: ObjectKind,
    /// Mode has `S_IROTH` (and `S_IXOTH` for directories).
    pub world_readable: bool,
}

/// Result of looking the object up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Found it.
    Found(ObjectMeta),
    /// `ENOENT` / `ENOTDIR`.
    NotFound,
    /// `EACCES` / `EPERM`.
    Forbidden,
    /// `ENAMETOOLONG`.
    NameTooLong,
    /// Any other error.
    Failed,
}

/// The object as looked up by the glue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object<'p> {
    /// The relative name actually looked up (e.g. `dir/index.html`); its
    /// extension selects the Content-Type.
    pub name: &'p [u8],
    /// Outcome of looking up `name`.
    pub lookup: Lookup,
    /// `name` is the [`index_path`] of the requested directory.
    pub index: bool,
    /// Metadata of `name.gz` if it was looked up and exists.
    pub gzip: Option<ObjectMeta>,
}

/// The body to send after the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Nothing (HEAD, 304).
    None,
    /// A built-in page.
    Static(&'static [u8]),
    /// `len` bytes of the file starting at `offset`; of `name.gz` if
    /// `gzip`.
    File {
        /// Send the `.gz` variant.
        gzip: bool,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// The response to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Status sent.
    pub status: Status,
    /// Length of the head written at the start of the output buffer.
    pub head_len: usize,
    /// Body to send after the head.
    pub body: Body,
    /// Keep the connection open afterwards (else close after sending).
    pub keep_alive: bool,
    /// Request body bytes to read and discard before the next request.
    pub discard: u64,
}

fn keep_alive(req: Option<&Request<'_>>, cfg: &Config<'_>, status: Status) -> bool {
    cfg.keep_alive && status.allows_keep_alive() && req.is_some_and(|r| r.wants_keep_alive())
}

/// Plans an error response: built-in HTML body (omitted for HEAD, with the
/// same Content-Length), `Allow` for 405. `req` is `None` when the request
/// could not be parsed; such responses always close the connection.
pub fn plan_error(
    req: Option<&Request<'_>>,
    cfg: &Config<'_>,
    status: Status,
    now: impl Into<Now>,
    out: &mut [u8],
) -> Result<Plan, HeadTooLarge> {
    let now: Now = now.into();
    let keep = keep_alive(req, cfg, status);
    let page = status.error_body();
    let mut h = ResponseHead::new(status, now, keep);
    if let Some(p) = page {
        h.content_type = Some(b"text/html");
        h.content_length = u64::try_from(p.len()).ok();
    }
    h.allow = status == Status::MethodNotAllowed;
    let head_len = write_head(&h, out)?;
    let body = match (page, req.is_some_and(|r| r.is_head())) {
        (Some(p), false) => Body::Static(p),
        _ => Body::None,
    };
    Ok(Plan {
        status,
        head_len,
        body,
        keep_alive: keep,
        discard: req.map_or(0, |r| r.content_length),
    })
}

/// Plans a `200 OK` whose body (`len` bytes of `content_type`) was generated
/// by an in-kernel handler; the glue sends the body after the head (not
/// for `HEAD`). The content type must pass [`mime::valid_type`], else the
/// planner uses [`mime::DEFAULT_TYPE`].
pub fn plan_generated(
    req: &Request<'_>,
    cfg: &Config<'_>,
    content_type: &[u8],
    len: usize,
    now: impl Into<Now>,
    out: &mut [u8],
) -> Result<Plan, HeadTooLarge> {
    let keep = keep_alive(Some(req), cfg, Status::Ok);
    let mut h = ResponseHead::new(Status::Ok, now.into(), keep);
    h.content_type = Some(if mime::valid_type(content_type) {
        content_type
    } else {
        mime::DEFAULT_TYPE
    });
    h.content_length = u64::try_from(len).ok();
    let head_len = write_head(&h, out)?;
    Ok(Plan {
        status: Status::Ok,
        head_len,
        body: Body::None,
        keep_alive: keep,
        discard: req.content_length,
    })
}

/// The `.gz` variant is used only if it is a readable regular file and not
/// older than the file it stands for (a stale `.gz` would serve old content).
fn usable_gzip(gz: Option<ObjectMeta>, original: &ObjectMeta) -> Option<ObjectMeta> {
    gz.filter(|g| g.kind == ObjectKind::File && g.world_readable && g.mtime >= original.mtime)
}

/// The state of an object that the fields describing its body depend on
/// (with the object's name and the configuration, which the caller keeps
/// fixed for a given cache of fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldsKey {
    /// Modification time of the file sent.
    pub mtime: u64,
    /// Size of the file sent.
    pub size: u64,
    /// The `.gz` variant is sent.
    pub gzip: bool,
}

/// The fields of a `200` head that describe the body (`Content-Type` to
/// `Vary`, see [`super::response::write_object_fields`]), formatted once per object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadFields<'c> {
    /// Fields an earlier plan formatted for the same object name, and the
    /// state they describe: used if the state is still the same.
    pub cached: Option<(FieldsKey, &'c [u8])>,
    /// Set by the planner when it formatted such fields afresh: the state and
    /// where they are in the output head, for the caller to keep.
    pub fresh: Option<(FieldsKey, core::ops::Range<usize>)>,
}

/// Plans the response for a routed request once the object is known.
pub fn plan_static(
    req: &Request<'_>,
    cfg: &Config<'_>,
    target: &StaticTarget<'_>,
    obj: &Object<'_>,
    now: impl Into<Now>,
    out: &mut [u8],
) -> Result<Plan, HeadTooLarge> {
    plan_static_with(req, cfg, target, obj, now, out, &mut HeadFields::default())
}

/// [`plan_static`], with fields formatted for an earlier request for the same
/// object name: the head is the same as `plan_static`'s, but the fields that
/// describe the body are copied if `fields.cached` holds them for the
/// object's current state, and reported in `fields.fresh` if formatted.
pub fn plan_static_with(
    req: &Request<'_>,
    cfg: &Config<'_>,
    target: &StaticTarget<'_>,
    obj: &Object<'_>,
    now: impl Into<Now>,
    out: &mut [u8],
    fields: &mut HeadFields<'_>,
) -> Result<Plan, HeadTooLarge> {
    fields.fresh = None;
    let now: Now = now.into();
    let meta = match obj.lookup {
        Lookup::Found(m) => m,
        // A directory without an index is forbidden, as in nginx without
        // autoindex.
        Lookup::NotFound if obj.index => {
            return plan_error(Some(req), cfg, Status::Forbidden, now, out)
        }
        Lookup::NotFound => return plan_error(Some(req), cfg, Status::NotFound, now, out),
        Lookup::Forbidden => return plan_error(Some(req), cfg, Status::Forbidden, now, out),
        Lookup::NameTooLong => return plan_error(Some(req), cfg, Status::UriTooLong, now, out),
        Lookup::Failed => return plan_error(Some(req), cfg, Status::InternalServerError, now, out),
    };
    match meta.kind {
        ObjectKind::Dir if !target.dir_request && meta.world_readable => {
            let keep = keep_alive(Some(req), cfg, Status::MovedPermanently);
            let mut h = ResponseHead::new(Status::MovedPermanently, now, keep);
            let page = Status::MovedPermanently.error_body().unwrap_or(b"");
            h.content_type = Some(b"text/html");
            h.content_length = u64::try_from(page.len()).ok();
            h.location = Some(Location {
                path: target.path,
                query: req.query,
            });
            let head_len = write_head(&h, out)?;
            return Ok(Plan {
                status: Status::MovedPermanently,
                head_len,
                body: if req.is_head() {
                    Body::None
                } else {
                    Body::Static(page)
                },
                keep_alive: keep,
                discard: req.content_length,
            });
        }
        ObjectKind::Dir | ObjectKind::Other => {
            return plan_error(Some(req), cfg, Status::Forbidden, now, out)
        }
        ObjectKind::File if target.dir_request && !obj.index => {
            return plan_error(Some(req), cfg, Status::NotFound, now, out)
        }
        ObjectKind::File if !meta.world_readable => {
            return plan_error(Some(req), cfg, Status::Forbidden, now, out)
        }
        ObjectKind::File => {}
    }

    let gz = if target.wants_gzip {
        usable_gzip(obj.gzip, &meta)
    } else {
        None
    };
    let sel = gz.unwrap_or(meta);
    let key = FieldsKey {
        mtime: sel.mtime,
        size: sel.size,
        gzip: gz.is_some(),
    };
    let cached = match fields.cached {
        Some((k, bytes)) if k == key => Some(bytes),
        _ => None,
    };
    let conditional = req.if_none_match.is_some() || req.if_range.is_some();
    // The entity tag is needed to format the fields, or to evaluate a condition.
    let etag = (cached.is_none() || conditional).then(|| ETag::new(sel.mtime, sel.size));
    let etag_bytes = match &etag {
        Some(e) if cfg.generate_etags => Some(e.as_bytes()),
        _ => None,
    };

    // RFC 9110 §13.2.2: If-None-Match, else If-Modified-Since, then Range.
    let not_modified = match (req.if_none_match.is_some(), etag_bytes) {
        (true, Some(e)) => req
            .headers_named(b"if-none-match")
            .any(|v| cond::if_none_match(v, e)),
        // Without ETags only `*` can match an existing file.
        (true, None) => req
            .headers_named(b"if-none-match")
            .any(|v| cond::if_none_match(v, b"")),
        (false, _) => req
            .if_modified_since
            .is_some_and(|v| cond::not_modified_since(v, sel.mtime, now.secs())),
    };

    let range = match (req.method, req.range) {
        (Method::Get, Some(r)) if !not_modified => {
            let validated = match req.if_range {
                Some(v) => cond::if_range(v, etag_bytes, sel.mtime),
                None => true,
            };
            if validated {
                cond::evaluate_range(r, sel.size)
            } else {
                RangeOutcome::Ignore
            }
        }
        _ => RangeOutcome::Ignore,
    };

    let (status, offset, len, content_range) = if not_modified {
        (Status::NotModified, 0, 0, None)
    } else {
        match range {
            RangeOutcome::Ignore => (Status::Ok, 0, sel.size, None),
            RangeOutcome::Partial { start, end } => (
                Status::PartialContent,
                start,
                end.saturating_sub(start).saturating_add(1),
                Some(ContentRange::Bytes {
                    start,
                    end,
                    len: sel.size,
                }),
            ),
            RangeOutcome::Unsatisfiable => {
                let keep = keep_alive(Some(req), cfg, Status::RangeNotSatisfiable);
                let page = Status::RangeNotSatisfiable.error_body().unwrap_or(b"");
                let mut h = ResponseHead::new(Status::RangeNotSatisfiable, now, keep);
                h.content_type = Some(b"text/html");
                h.content_length = u64::try_from(page.len()).ok();
                h.content_range = Some(ContentRange::Unsatisfied { len: sel.size });
                let head_len = write_head(&h, out)?;
                return Ok(Plan {
                    status: Status::RangeNotSatisfiable,
                    head_len,
                    body: Body::Static(page),
                    keep_alive: keep,
                    discard: req.content_length,
                });
            }
        }
    };

    let keep = keep_alive(Some(req), cfg, status);
    let mut h = ResponseHead::new(status, now, keep);
    // A whole file with `200`: the fields describing it depend on the object alone.
    let whole = status == Status::Ok && content_range.is_none();
    let head_len = match cached {
        Some(bytes) if whole => write_head_with_fields(&h, bytes, out)?,
        _ => {
            // Formatted here: `etag` was computed above when nothing was cached.
            let etag = etag.unwrap_or_else(|| ETag::new(sel.mtime, sel.size));
            h.etag = cfg.generate_etags.then(|| etag.as_bytes());
            h.last_modified = Some(sel.mtime);
            h.vary_accept_encoding = cfg.compression;
            if status != Status::NotModified {
                h.content_type = Some(mime::content_type(obj.name, cfg.mime_types));
                h.content_length = Some(len);
                h.accept_ranges = true;
                h.content_range = content_range;
                h.gzip = gz.is_some();
            }
            let (head_len, range) = write_head_parts(&h, out)?;
            if whole {
                fields.fresh = Some((key, range));
            }
            head_len
        }
    };
    let body = if status == Status::NotModified || req.is_head() || len == 0 {
        Body::None
    } else {
        Body::File {
            gzip: gz.is_some(),
            offset,
            len,
        }
    };
    Ok(Plan {
        status,
        head_len,
        body,
        keep_alive: keep,
        discard: req.content_length,
    })
}
