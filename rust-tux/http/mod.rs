// SPDX-License-Identifier: GPL-2.0

//! Sans-IO HTTP/1.1 core of tux.
//!
//! Everything in this module is pure computation over caller-provided
//! buffers: no I/O, no allocation, no `unsafe`, no floating point and no
//! panicking operations. The kernel glue drives it in three steps:
//!
//! 1. [`parser::parse_request`] turns the bytes read so far into a
//!    zero-copy [`parser::Request`] (or asks for more input, or reports the
//!    error status to answer with).
//! 2. [`plan::route`] decides what to look up: a normalised relative path
//!    (plus an optional virtual-host directory), or an immediate error.
//! 3. After stat-ing the object, [`plan::plan_static`] evaluates the
//!    conditional and range headers and writes the response head into a
//!    caller buffer, returning a [`plan::Plan`] saying which bytes of which
//!    file to send and whether to keep the connection alive.
//!
//! [`accesslog`] formats the Combined Log Format line of each request;
//! [`authority`] parses Host values (RFC 3986) and writes IP addresses.
//!
//! The same files build on the host (crate `tux-http`) for unit, property
//! and fuzz tests.

pub mod accesslog;
pub mod authority;
pub mod cond;
pub mod date;
pub mod mime;
pub mod parser;
pub mod path;
pub mod plan;
pub mod response;
pub mod status;

mod cursor;
