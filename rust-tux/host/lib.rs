//! Host build of the tux HTTP core.
//!
//! The kernel includes `http/mod.rs` as `mod http;` of `net/tux/tux.rs`.
//! This crate root compiles the very same source files as an ordinary
//! `no_std` library so that they can be unit-, property- and fuzz-tested
//! with cargo on the host. Lints mirror the kernel's flags plus the
//! "every function is total" rules.

#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic,
    clippy::todo,
    clippy::unimplemented,
    clippy::unreachable
)]
#![warn(
    unreachable_pub,
    missing_docs,
    rust_2018_idioms,
    unsafe_op_in_unsafe_fn,
    clippy::all
)]
// Unit tests may assert with unwrap/indexing/panics.
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

#[path = "../http/mod.rs"]
mod http;

pub use http::*;
