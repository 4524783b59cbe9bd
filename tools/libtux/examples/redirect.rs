// SPDX-License-Identifier: GPL-2.0

//! A module that passes requests on: everything under `/legacy` goes to the
//! fallback server on `clientport` (`REDIRECT_REQ`), which gets the live
//! connection with the request unread, as if the client had connected to
//! it. With no fallback server, the module answers 502 itself.
//!
//! ```text
//! redirect [THREADS]     # with nginx on :8080: curl http://host/legacy/x
//! ```

use libtux::{Outcome, Request, Result, Server};

fn pass_on(req: &mut Request) -> Result<Outcome> {
    req.redirect_or_bad_gateway()
}

fn main() {
    let threads = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let run = || -> Result<()> {
        let mut server = Server::new()?;
        server.register("/legacy", pass_on)?;
        server.stopper().stop_on_signals();
        let r = server.run(threads);
        server.unregister_all()?;
        r
    };
    if let Err(e) = run() {
        eprintln!("redirect: {e}");
        std::process::exit(1);
    }
}
