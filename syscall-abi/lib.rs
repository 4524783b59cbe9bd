// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note

//! `tux-abi`: the `tux(2)` ABI for userspace (libtux) and host tests.
//!
//! The definitions live in `abi.rs`, which the kernel builds as a module of
//! its own `tux` crate.

#![no_std]
#![deny(missing_docs)]

#[path = "abi.rs"]
mod abi;
pub use abi::*;

/// `__NR_tux`, the system call number of `tux(2)` on x86_64 and in the
/// generic table (arm64, riscv, ...).
pub const NR_TUX: core::ffi::c_long = 473;
