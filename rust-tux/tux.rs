// SPDX-License-Identifier: GPL-2.0

//! TUX: an in-kernel HTTP/1.1 server.
//!
//! TUX serves static files from the page cache straight to the network. This
//! crate is the kernel side of the subsystem; it is built into the image when
//! `CONFIG_TUX=y` and initialised at boot.
//!
//! Layout:
//! - [`version`]: the subsystem version reported at boot and by `tux(2)`.
//! - `tests`: KUnit suites (`CONFIG_TUX_KUNIT_TEST`).

use kernel::prelude::*;

module! {
    type: Tux,
    name: "tux",
    authors: ["The tux developers"],
    description: "TUX in-kernel HTTP server",
    license: "GPL",
}

pub(crate) mod version {
    //! The subsystem version.
    //!
    //! `tux(2)`'s `TUX_ACTION_QUERY_VERSION` reports it packed as
    //! `major << 24 | minor << 16 | patch`, as classic TUX did.

    /// Major version: 4 is the first Rust TUX (classic TUX ended at 3).
    pub(crate) const MAJOR: u32 = 4;
    /// Minor version.
    pub(crate) const MINOR: u32 = 0;
    /// Patch level.
    pub(crate) const PATCH: u32 = 0;

    /// The version packed as `tux(2)` reports it.
    pub(crate) const fn packed() -> u32 {
        (MAJOR << 24) | (MINOR << 16) | PATCH
    }
}

/// The subsystem instance, alive from boot until shutdown.
struct Tux;

impl kernel::Module for Tux {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "TUX {}.{}.{} in-kernel HTTP server (Rust), version code {:#010x}\n",
            version::MAJOR,
            version::MINOR,
            version::PATCH,
            version::packed()
        );
        Ok(Tux)
    }
}

#[cfg(CONFIG_TUX_KUNIT_TEST)]
#[kunit_tests(tux_core)]
mod tests {
    use super::version;

    #[test]
    fn version_packing_matches_classic_layout() {
        let v = version::packed();
        assert_eq!(v >> 24, version::MAJOR);
        assert_eq!((v >> 16) & 0xff, version::MINOR);
        assert_eq!(v & 0xffff, version::PATCH);
    }
}
