// SPDX-License-Identifier: GPL-2.0

//! A module computing JSON: `GET /api/stats` answers
//! `{"requests":N,"time":T,"client":"A","path":"P","user_agent":"U"}`
//! with a request counter shared by all module threads, the Unix time,
//! and request data escaped as JSON strings.
//!
//! ```text
//! json [THREADS]         # then: curl http://host/api/stats
//! ```

use libtux::{Method, Module, Outcome, Request, Result, Server};
use std::sync::atomic::{AtomicU64, Ordering};

struct Stats {
    requests: AtomicU64,
}

impl Module for Stats {
    fn handle(&self, req: &mut Request) -> Result<Outcome> {
        if !matches!(req.method(), Method::Get | Method::Head) {
            return req.respond(405, &[("Allow", "GET, HEAD")], b"");
        }
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let client = req.client_addr().map(|a| a.to_string()).unwrap_or_default();
        let path = req.path()?.to_string();
        let ua = req.header("user-agent")?.unwrap_or("").to_string();
        let body = format!(
            "{{\"requests\":{n},\"time\":{time},\"client\":\"{}\",\"path\":\"{}\",\"user_agent\":\"{}\"}}\n",
            libtux::head::json_escape(&client),
            libtux::head::json_escape(&path),
            libtux::head::json_escape(&ua)
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

fn main() {
    let threads = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    let run = || -> Result<()> {
        let mut server = Server::new()?;
        server.register(
            "/api/stats",
            Stats {
                requests: AtomicU64::new(0),
            },
        )?;
        server.stopper().stop_on_signals();
        let r = server.run(threads);
        server.unregister_all()?;
        r
    };
    if let Err(e) = run() {
        eprintln!("json: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn escapes() {
        assert_eq!(
            libtux::head::json_escape("a\"b\\c\n\u{1}\u{2028}é"),
            "a\\\"b\\\\c\\n\\u0001\\u2028é"
        );
    }
}
