// SPDX-License-Identifier: GPL-2.0

//! The smallest tux user module: `GET /hello` answers
//! "Hello from a tux user module".
//!
//! Run as root (CAP_NET_ADMIN) on a kernel with a running TUX
//! (`tux run`, or `echo 1 > /proc/sys/net/tux/running`):
//!
//! ```text
//! hello [THREADS] [ROUTE]   # then: curl http://host/hello
//! hello 1 '*.hi'            # any path ending in .hi
//! ```
//! SIGINT/SIGTERM stop it.

use libtux::{Outcome, Request, Result, Server};

fn hello(req: &mut Request) -> Result<Outcome> {
    req.respond(
        200,
        &[("Content-Type", "text/plain")],
        b"Hello from a tux user module\n",
    )
}

fn main() {
    let threads = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let route = std::env::args().nth(2).unwrap_or_else(|| "/hello".into());
    if let Err(e) = run(threads, &route) {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}

fn run(threads: u32, route: &str) -> Result<()> {
    let mut server = Server::new()?;
    server.register(route, hello)?;
    server.stopper().stop_on_signals();
    let r = server.run(threads);
    server.unregister_all()?;
    r
}
