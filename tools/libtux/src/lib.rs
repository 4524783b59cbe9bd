// SPDX-License-Identifier: GPL-2.0

//! libtux: user modules for TUX, the in-kernel HTTP server, over `tux(2)`.
//!
//! TUX serves static files in the kernel. Requests under a prefix that a
//! process registered as a *module* are handed to that process instead:
//! its module threads wait in `EVENTLOOP`, answer with `SEND_BUFFER` /
//! `SEND_OBJECT` and end the request with `FINISH_REQ`. libtux wraps it:
//!
//! - [`sys`]: the raw call, [`sys::tux`], and [`Errno`];
//! - administration: [`query_version`], [`check_kernel`], [`startup`],
//!   [`shutdown`], [`register_module`], [`unregister_module`],
//!   [`register_mimetype`], [`current_date`];
//! - [`Server`], [`ModuleThread`], [`Module`], [`Dispatch`], [`Stopper`]:
//!   module threads and the event loop;
//! - [`Request`]: the request's fields, head, headers, cookies and body,
//!   and the answers ([`Request::respond`], [`Request::send_file`],
//!   streaming, [`Request::postpone`] / [`Postponed::continue_`],
//!   [`Request::redirect`]);
//! - [`cgi::CgiModule`]: a module running CGI/1.1 programs;
//! - [`head`]: the pure HTTP helpers (head parsing, response heads).
//!
//! Every call acts on the TUX of the calling process's network namespace:
//! each namespace has its own server, settings and modules, so a module
//! registered from a container's namespace answers that namespace's clients
//! only. Outside the initial namespace, every action but [`query_version`]
//! needs `CAP_NET_ADMIN` over the initial user namespace, or over the
//! namespace's own when the host set `net.tux.userns_control` to 1
//! (otherwise [`Error`] carries `EPERM`).
//!
//! No function here panics on input from the kernel or a client; every
//! failure is an [`Error`] naming the action and error number.
//!
//! ```no_run
//! use libtux::{Outcome, Request, Result, Server};
//!
//! fn main() -> Result<()> {
//!     let mut server = Server::new()?;
//!     server.register("/hello", |req: &mut Request| -> Result<Outcome> {
//!         req.respond(200, &[("Content-Type", "text/plain")], b"Hello from a tux user module\n")
//!     })?;
//!     server.run(1)
//! }
//! ```

#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod admin;
pub mod cgi;
pub mod error;
pub mod head;
pub mod request;
pub mod server;
pub mod sys;

pub use admin::{
    abi_version, check_kernel, check_version, current_date, format_version, query_version,
    register_mimetype, register_module, shutdown, start_thread, startup, stop_thread,
    unregister_module, ModuleId,
};
pub use error::{Error, Result};
pub use head::{Field, Head, HttpVersion};
pub use request::{Method, ObjectInfo, Outcome, Postponed, Request};
pub use server::{Dispatch, Module, ModuleThread, Next, Server, Stopper};
pub use sys::Errno;
pub use tux_abi;
