# Shared environment for the tux build scripts. Source it; do not run it.
# shellcheck shell=bash

TUX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=pins.env
. "$TUX_ROOT/tools/pins.env"

TUX_CACHE=${TUX_CACHE:-$HOME/.cache/tux}
TUX_DL=$TUX_CACHE/downloads
TUX_APT=$TUX_CACHE/apt
TUX_RUST_SRC=$TUX_CACHE/rust-src-$RUST_SRC_PKG_VERSION
TUX_BINDGEN=$TUX_CACHE/bindgen-$BINDGEN_VERSION
TUX_CARGO_FUZZ=$TUX_CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION
TUX_PASST=$TUX_CACHE/passt-$PASST_VERSION-$PASST_DEBIAN
TUX_KSRC=${TUX_KSRC:-$TUX_CACHE/linux-$KERNEL_VERSION}

export RUSTUP_TOOLCHAIN=$RUST_TOOLCHAIN
export RUST_LIB_SRC=$TUX_RUST_SRC/usr/src/rustc-${RUST_TOOLCHAIN}/library
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH=$TUX_BINDGEN/bin:$TUX_CARGO_FUZZ/bin:$PATH

say() { printf '\033[1m[tux]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[tux] error:\033[0m %s\n' "$*" >&2; exit 1; }

# The kernel sources of rust-tux/, by name: the crate root, its modules and
# module directories, without the host-only parts (Cargo, tests, fuzzing,
# examples). kernel-tree.sh links them into net/tux/; series.sh exports them.
subsystem_entries() {
	local src name
	for src in "$TUX_ROOT"/rust-tux/*; do
		name=$(basename "$src")
		case $name in host | tests | fuzz | target | examples) continue ;; esac
		[ -d "$src" ] || [ "${name%.rs}" != "$name" ] || continue
		echo "$name"
	done
}

# checkpatch types the series is not checked for:
# - FILE_PATH_CHANGES: asks, for every added file, whether MAINTAINERS
#   needs updating.
# - CONST_STRUCT: flags every non-const `struct ctl_table` line, and a
#   per-namespace sysctl table is necessarily a runtime copy whose .data
#   is patched (as net/ipv4/ and net/ipv6/ do). The ops structs the
#   series adds are const; reviewed by hand.
CHECKPATCH_IGNORE=FILE_PATH_CHANGES,CONST_STRUCT
