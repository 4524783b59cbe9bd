# SPDX-License-Identifier: GPL-2.0
#
# tux: a memory-safe TUX for modern Linux. `make help` lists the targets.
#
# Everything downloaded or built lives outside the clone, in TUX_CACHE
# (default ~/.cache/tux), so repeated runs are incremental.

SHELL := /bin/bash
TUX_CACHE ?= $(HOME)/.cache/tux
export TUX_CACHE

# make run: a host directory to serve and the host port to forward to the
# guest's port 80; ACCEL=tcg|kvm|auto (default tcg), SMP, MEM, APPEND.
DOCROOT ?= tools/guest/www
PORT ?= 8080
FLAVOR ?= lean
export PORT ACCEL SMP MEM APPEND
# MODULES: programs of yours (paths) to copy into the guest with their
# shared libraries and start at boot; TUX_CONFIG: the daemon's
# configuration instead of tools/guest/etc/tux.toml.
MODULES ?=
TUX_CONFIG ?=
# The guest's own userland: the tux daemon, the libtux examples and the C
# example on raw tux(2) (Documentation/tux/libtux.rst).
USERLAND := target/debug
RUN_TOOLS := $(USERLAND)/tux $(addprefix $(USERLAND)/examples/,hello json postpone redirect hello-c)

# Campaign sizes: make soak, make fuzz, make tuxfuzz (make test runs short
# versions; see tools/test.sh).
SOAK_REQUESTS ?= 1000000
FUZZ_SECONDS ?= 600
TUXFUZZ_CALLS ?= 1000000

.PHONY: help deps kernel defconfig run userland doc series bisect-check test test-lean test-debug soak fuzz tuxfuzz bench patches tree initramfs check-host clean-build

help:
	@echo "tux make targets:"
	@echo "  make run [DOCROOT=dir] [PORT=n]  set up everything, build and boot the TUX kernel in QEMU"
	@echo "      [MODULES=\"prog ...\"] [TUX_CONFIG=file]  with your programs started at boot, your daemon config"
	@echo "  make doc                         the API docs of libtux, tux-abi and tux-http (target/doc)"
	@echo "  make test                         run every test layer (host, patches, lean and debug kernels: KUnit, QEMU e2e)"
	@echo "  make test-lean / make test-debug  the same with one kernel (debug: KASAN, UBSAN, lockdep, kmemleak)"
	@echo "  make soak [SOAK_REQUESTS=n]       the debug kernel's e2e run with the full soak (1,000,000 requests) and kmemleak"
	@echo "  make fuzz [FUZZ_SECONDS=n]        every cargo-fuzz target of the HTTP core, 600 s each"
	@echo "  make tuxfuzz [TUXFUZZ_CALLS=n]    the lean kernel's e2e run with 1,000,000 tux(2) fuzz calls"
	@echo "  make bench [BENCH_QUICK=1]        tux vs nginx vs lighttpd in one guest (Documentation/benchmarks/)"
	@echo "  make deps                         install host dependencies (idempotent)"
	@echo "  make kernel [FLAVOR=lean|defconfig]  build bzImage in \$$TUX_CACHE/build-FLAVOR"
	@echo "  make defconfig                    configure x86_64_defconfig + CONFIG_TUX (FLAVOR=defconfig)"
	@echo "  make patches                      regenerate linux-patches/ from the kernel tree"
	@echo "  make series [SERIES_DIR=dir]      export all of TUX as one git-am-able series with a cover letter"
	@echo "  make bisect-check                 every prefix of that series builds, checkpatch --strict on each"
	@echo "  make check-host                   host tests only (cargo test, fmt, clippy)"

deps:
	@tools/deps.sh

tree: deps
	@tools/kernel-tree.sh

kernel: deps
	@tools/kernel-build.sh build $(FLAVOR)

defconfig: deps
	@tools/kernel-build.sh config defconfig
	@echo "now: make kernel FLAVOR=defconfig (a full defconfig build takes ~20 min on 2 cores)"

patches:
	@tools/gen-patches.sh

# The self-contained series: linux-patches/ plus the subsystem and the ABI as
# files of the tree (Documentation/tux/build.rst, "Taking the series").
SERIES_DIR ?= $(TUX_CACHE)/series
series: deps
	@tools/series.sh $(SERIES_DIR)

bisect-check: deps
	@tools/test/series.sh bisect

userland: deps
	@cargo build -q -p tux -p libtux --bins --examples
	@cc -O2 -Wall -I syscall-abi/include/uapi -o $(USERLAND)/examples/hello-c tools/libtux/examples/c/hello.c

initramfs: userland
	@TUX_GUEST_RUN=1 GUEST_TOOLS="$(RUN_TOOLS)" RUN_MODULES="$(abspath $(MODULES))" \
		RUN_CONFIG="$(if $(TUX_CONFIG),$(abspath $(TUX_CONFIG)))" \
		tools/mkinitramfs.sh $(TUX_CACHE)/initramfs-run.cpio.gz $(DOCROOT)

run: kernel initramfs
	@tools/run.py $(TUX_CACHE)/bzImage-$(FLAVOR) $(TUX_CACHE)/initramfs-run.cpio.gz

test:
	@tools/test.sh

# rustdoc of the userspace crates, warnings as errors (make test checks it).
doc:
	RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps -p libtux -p tux-abi -p tux-http
	@echo "docs: target/doc/libtux/index.html (tux-abi: target/doc/tux_abi, tux-http: target/doc/tux_http)"

# Benchmarks (never part of make test): BENCH_QUICK=1 for a short run.
bench: kernel
	@tools/bench/bench.py --kernel $(TUX_CACHE)/bzImage-lean $(if $(BENCH_QUICK),--quick)

# The two kernels of `make test` separately.
test-lean:
	@TUX_TEST_FLAVORS=lean tools/test.sh

test-debug:
	@TUX_TEST_FLAVORS=debug tools/test.sh

# Campaigns (never part of make test, which runs short versions of them):
# record their results, with the commit, in Documentation/tux/hardening.rst.
soak:
	@SOAK_REQUESTS=$(SOAK_REQUESTS) tools/test.sh soak

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tools/test.sh fuzz

tuxfuzz:
	@TUXFUZZ_CALLS=$(TUXFUZZ_CALLS) tools/test.sh tuxfuzz

check-host:
	cargo test --workspace
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean-build:
	rm -rf $(TUX_CACHE)/build-*
