// SPDX-License-Identifier: GPL-2.0

//! File extension → Content-Type.
//!
//! The default table follows nginx's stock `mime.types` (no charset is
//! appended, as with nginx's default `charset off`), plus a few types nginx
//! lacks (`mjs`, `gz`, `tar`, `wasm`...). Matching is ASCII
//! case-insensitive; a caller table is consulted before the default one.

/// Type used when no table knows the extension.
pub const DEFAULT_TYPE: &[u8] = b"application/octet-stream";

/// One table entry: extension (without dot) and content type.
pub type MimeEntry<'t> = (&'t [u8], &'t [u8]);

/// The built-in table.
pub const DEFAULT_TABLE: &[MimeEntry<'static>] = &[
    (b"html", b"text/html"),
    (b"htm", b"text/html"),
    (b"shtml", b"text/html"),
    (b"css", b"text/css"),
    (b"xml", b"text/xml"),
    (b"txt", b"text/plain"),
    (b"md", b"text/markdown"),
    (b"csv", b"text/csv"),
    (b"js", b"application/javascript"),
    (b"mjs", b"application/javascript"),
    (b"json", b"application/json"),
    (b"map", b"application/json"),
    (b"wasm", b"application/wasm"),
    (b"pdf", b"application/pdf"),
    (b"rss", b"application/rss+xml"),
    (b"atom", b"application/atom+xml"),
    (b"xhtml", b"application/xhtml+xml"),
    (b"zip", b"application/zip"),
    (b"gz", b"application/gzip"),
    (b"tgz", b"application/gzip"),
    (b"tar", b"application/x-tar"),
    (b"7z", b"application/x-7z-compressed"),
    (b"bin", b"application/octet-stream"),
    (b"png", b"image/png"),
    (b"jpg", b"image/jpeg"),
    (b"jpeg", b"image/jpeg"),
    (b"gif", b"image/gif"),
    (b"webp", b"image/webp"),
    (b"avif", b"image/avif"),
    (b"svg", b"image/svg+xml"),
    (b"svgz", b"image/svg+xml"),
    (b"ico", b"image/x-icon"),
    (b"bmp", b"image/x-ms-bmp"),
    (b"tif", b"image/tiff"),
    (b"tiff", b"image/tiff"),
    (b"woff", b"font/woff"),
    (b"woff2", b"font/woff2"),
    (b"ttf", b"font/ttf"),
    (b"otf", b"font/otf"),
    (b"mp4", b"video/mp4"),
    (b"webm", b"video/webm"),
    (b"ogv", b"video/ogg"),
    (b"mpeg", b"video/mpeg"),
    (b"mpg", b"video/mpeg"),
    (b"mov", b"video/quicktime"),
    (b"mp3", b"audio/mpeg"),
    (b"ogg", b"audio/ogg"),
    (b"m4a", b"audio/x-m4a"),
    (b"wav", b"audio/wav"),
    (b"flac", b"audio/flac"),
];

/// The extension of the last component of `path` (after its last `.`).
pub fn extension(path: &[u8]) -> Option<&[u8]> {
    let name = match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => path.get(slash.checked_add(1)?..)?,
        None => path,
    };
    let dot = name.iter().rposition(|&b| b == b'.')?;
    let ext = name.get(dot.checked_add(1)?..)?;
    if ext.is_empty() {
        None
    } else {
        Some(ext)
    }
}

/// The special type of classic TUX's `REGISTER_MIMETYPE`: files with an
/// extension registered with it are not served but handed, with their
/// connection, to the fallback server (`clientport`).
pub const TYPE_REDIRECT: &[u8] = b"TUX/redirect";

/// Whether `ty` is a special type (`TUX/...`), never sent as a `Content-Type`.
pub fn is_special(ty: &[u8]) -> bool {
    ty.starts_with(b"TUX/")
}

/// Longest extension a caller may register.
pub const EXTENSION_MAX: usize = 16;
/// Longest content type a caller may register.
pub const TYPE_MAX: usize = 127;

/// Whether `ext` may be registered: 1 to [`EXTENSION_MAX`] ASCII letters,
/// digits, `-`, `_` or `+` (no dot).
pub fn valid_extension(ext: &[u8]) -> bool {
    !ext.is_empty()
        && ext.len() <= EXTENSION_MAX
        && ext
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
}

/// Whether `ty` may be sent as a `Content-Type` value: `type/subtype`
/// with optional parameters, printable ASCII only (no CR, LF or other
/// control bytes that could split the response head), at most
/// [`TYPE_MAX`] bytes.
pub fn valid_type(ty: &[u8]) -> bool {
    let Some(slash) = ty.iter().position(|&b| b == b'/') else {
        return false;
    };
    slash > 0
        && ty.len() <= TYPE_MAX
        && ty
            .get(slash.saturating_add(1))
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && ty.iter().all(|&b| (0x20..0x7f).contains(&b))
        && ty.first().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn lookup<'t>(table: &[MimeEntry<'t>], ext: &[u8]) -> Option<&'t [u8]> {
    table
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map(|&(_, t)| t)
}

/// The content type for `path`: `extra` first, then [`DEFAULT_TABLE`],
/// else [`DEFAULT_TYPE`].
pub fn content_type<'t>(path: &[u8], extra: &[MimeEntry<'t>]) -> &'t [u8] {
    let Some(ext) = extension(path) else {
        return DEFAULT_TYPE;
    };
    lookup(extra, ext)
        .or_else(|| lookup(DEFAULT_TABLE, ext))
        .unwrap_or(DEFAULT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(content_type(b"index.html", &[]), b"text/html");
        assert_eq!(content_type(b"a/b/STYLE.CSS", &[]), b"text/css");
        assert_eq!(content_type(b"x.tar.gz", &[]), b"application/gzip");
        assert_eq!(content_type(b"README", &[]), DEFAULT_TYPE);
        assert_eq!(content_type(b"dir.d/README", &[]), DEFAULT_TYPE);
        assert_eq!(content_type(b"trailing.", &[]), DEFAULT_TYPE);
        assert_eq!(content_type(b"", &[]), DEFAULT_TYPE);
        let extra: &[MimeEntry<'_>] = &[(b"html", b"text/html; charset=utf-8"), (b"foo", b"x/foo")];
        assert_eq!(content_type(b"a.HTML", extra), b"text/html; charset=utf-8");
        assert_eq!(content_type(b"a.foo", extra), b"x/foo");
        assert_eq!(content_type(b"a.png", extra), b"image/png");
    }
}
