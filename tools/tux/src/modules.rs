// SPDX-License-Identifier: GPL-2.0

//! The daemon's built-in modules (the `kind`s of `[[modules]]`).

use libtux::{Method, Module, Outcome, Request, Result};
use std::sync::atomic::{AtomicU64, Ordering};

/// `kind = "hello"`.
pub struct Hello;

impl Module for Hello {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        req.respond(
            200,
            &[("Content-Type", "text/plain")],
            b"Hello from a tux user module\n",
        )
    }
}

/// `kind = "redirect"`: the prefix belongs to the fallback server on
/// `clientport`; with none listening, the client gets a 502.
pub struct Redirect;

impl Module for Redirect {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        req.redirect_or_bad_gateway()
    }
}

/// `kind = "json"`: `{"requests":N,"time":T,"client":"A","path":"P"}`.
#[derive(Default)]
pub struct Json {
    requests: AtomicU64,
}

impl Module for Json {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        if !matches!(req.method(), Method::Get | Method::Head) {
            return req.respond(405, &[("Allow", "GET, HEAD")], b"");
        }
        let n = self
            .requests
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let time = libtux::head::now_secs();
        let client = req.client_addr().map(|a| a.to_string()).unwrap_or_default();
        let path = req.path()?.to_string();
        let body = format!(
            "{{\"requests\":{n},\"time\":{time},\"client\":\"{}\",\"path\":\"{}\"}}\n",
            libtux::head::json_escape(&client),
            libtux::head::json_escape(&path)
        );
        req.respond(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
            ],
            body.as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn escapes_json() {
        assert_eq!(
            libtux::head::json_escape("a\"b\\c\n\u{1}\u{2028}é/"),
            "a\\\"b\\\\c\\n\\u0001\\u2028é/"
        );
    }
}
