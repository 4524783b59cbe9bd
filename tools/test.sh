#!/usr/bin/env bash
# make test: every layer, one summary.
#
#   deps      make deps (a failure here fails everything after it)
#   host      cargo test of the workspace, rustfmt and clippy
#   fuzz      every cargo-fuzz target of the HTTP core, TUX_FUZZ_SECONDS (20) each
#   patches   the series applies with git am on the pinned tree; checkpatch
#   kernel-F  the TUX kernel of flavor F builds (lean, then debug)
#   e2e-F     one QEMU boot of it: KUnit (KTAP), in-guest tests, host tests
#
# Both kernels run by default; TUX_TEST_FLAVORS=lean (make test-lean) or
# debug (make test-debug) runs one. The debug run holds the soak (1,000,000
# requests under KASAN), the longest part of make test.
#
# Each layer reports "<layer>: N passed, N failed"; the last line sums them.
# A layer that cannot run because an earlier one failed counts as failed,
# never as skipped.
set -uo pipefail
. "$(dirname "$0")/common.sh"

LOGS=$TUX_CACHE/logs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$LOGS"
# Keep the last ten runs' logs.
ls -1d "$TUX_CACHE"/logs/test-* 2>/dev/null | head -n -10 | xargs -r rm -rf
total_pass=0
total_fail=0
failed_layers=()

layer() { # layer NAME PASSED FAILED
	printf '\033[1m%s: %d passed, %d failed\033[0m\n' "$1" "$2" "$3"
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	[ "$3" = 0 ] || failed_layers+=("$1")
}

# check NAME LOGFILE CMD...: one pass/fail, log kept, tail shown on failure.
check() {
	local name=$1 logf=$2
	shift 2
	if "$@" >"$logf" 2>&1; then
		echo "PASS $name"
		return 0
	fi
	echo "FAIL $name (log: $logf)"
	tail -n 30 "$logf" | sed 's/^/  | /'
	return 1
}

t_start=$SECONDS
say "make test: logs in $LOGS"

# --- deps --------------------------------------------------------------
deps_ok=1
if check deps "$LOGS/deps.log" "$TUX_ROOT/tools/deps.sh"; then
	layer deps 1 0
else
	layer deps 0 1
	deps_ok=0
fi

# --- host --------------------------------------------------------------
p=0 f=0
cd "$TUX_ROOT"
if cargo test --workspace --no-fail-fast >"$LOGS/cargo-test.log" 2>&1; then rc=0; else rc=$?; fi
read -r cp cf < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$LOGS/cargo-test.log")
grep -E '^test .* FAILED$|^---- ' "$LOGS/cargo-test.log" | sed 's/^/  | /'
p=$((p + cp)) f=$((f + cf))
if [ "$rc" != 0 ] && [ "$cf" = 0 ]; then
	echo "FAIL cargo test (exit $rc without a failed test: build error? log: $LOGS/cargo-test.log)"
	tail -n 30 "$LOGS/cargo-test.log" | sed 's/^/  | /'
	f=$((f + 1))
else
	echo "cargo test: $cp passed, $cf failed"
fi
if check rustfmt "$LOGS/fmt.log" cargo fmt --all --check; then p=$((p + 1)); else f=$((f + 1)); fi
# The kernel-only sources of rust-tux (outside the cargo crates), laid out as
# net/tux/ is, with the kernel's rustfmt settings (edition 2021, Unix newlines).
rustfmt_kernel_sources() {
	local d
	d=$(mktemp -d) && cp -r "$TUX_ROOT"/rust-tux/. "$d/" && cp "$TUX_ROOT/syscall-abi/abi.rs" "$d/" &&
		(cd "$d" && rustfmt --edition 2021 --config newline_style=Unix --check tux.rs tux_ceiling.rs)
	local rc=$?
	rm -rf "$d"
	return $rc
}
if check rustfmt-kernel "$LOGS/fmt-kernel.log" rustfmt_kernel_sources; then p=$((p + 1)); else f=$((f + 1)); fi
if check clippy "$LOGS/clippy.log" cargo clippy --workspace --all-targets -q -- -D warnings; then
	p=$((p + 1))
else
	f=$((f + 1))
fi
layer host $p $f

# --- fuzz ---------------------------------------------------------------
# A short smoke run of every cargo-fuzz target of the HTTP core (the long
# runs are in Documentation/tux/hardening.rst); the seed corpora and crash
# reproducers are also replayed by cargo test (rust-tux/tests/props.rs).
p=0 f=0
FUZZ_SECS=${TUX_FUZZ_SECONDS:-20}
if [ $deps_ok = 1 ]; then
	FUZZ_TARGET_DIR=$TUX_CACHE/fuzz-target "$TUX_ROOT/rust-tux/fuzz/smoke.sh" "$FUZZ_SECS" \
		>"$LOGS/fuzz.log" 2>&1
	p=$(grep -c '^PASS ' "$LOGS/fuzz.log")
	f=$(grep -c '^FAIL ' "$LOGS/fuzz.log")
	grep -E '^(PASS|FAIL) |stat::number_of_executed_units' "$LOGS/fuzz.log" | sed 's/^/  /'
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then
		echo "FAIL fuzz (no target ran; log: $LOGS/fuzz.log)"
		tail -n 30 "$LOGS/fuzz.log" | sed 's/^/  | /'
		f=1
	fi
else
	f=1
fi
layer fuzz $p $f

# --- patches -----------------------------------------------------------
p=0 f=0
if [ $deps_ok = 1 ] && check "patches/git-am" "$LOGS/tree.log" "$TUX_ROOT/tools/kernel-tree.sh"; then
	p=$((p + 1))
	for patch in "$TUX_ROOT"/linux-patches/*.patch; do
		if check "patches/checkpatch/$(basename "$patch")" "$LOGS/checkpatch.log" \
			"$TUX_KSRC/scripts/checkpatch.pl" --quiet --no-tree --strict \
			--ignore FILE_PATH_CHANGES "$patch"; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
else
	f=$((f + 1))
fi
tree_ok=$((f == 0))
layer patches $p $f

# --- kernel and e2e, per flavor ------------------------------------------
# lean: the fast test kernel. debug: the same plus KASAN, UBSAN, KFENCE,
# lockdep, DEBUG_OBJECTS and kmemleak (configs/debug.config), booted with
# panic_on_warn; any report fails the run.
FIXTURE=$TUX_CACHE/fixture
build_fixture() {
	rm -rf "$FIXTURE" && mkdir -p "$FIXTURE" &&
		python3 "$TUX_ROOT/tools/test/fixture.py" "$FIXTURE/www" --manifest "$FIXTURE/manifest.json"
}
fixture_ok=0

# The project's userspace that runs in the guest: the tux daemon, the libtux
# examples (user modules) and the tux(2) test program.
USERLAND=$TUX_ROOT/target/debug
GUEST_TOOLS="$USERLAND/tux $USERLAND/tuxcall-test $USERLAND/tuxfuzz $USERLAND/mksock $USERLAND/listen1 $USERLAND/examples/hello $USERLAND/examples/json $USERLAND/examples/postpone $USERLAND/examples/redirect"
build_userland() {
	(cd "$TUX_ROOT" && cargo build -p tux -p tux-guest-tests -p libtux --bins --examples)
}
userland_ok=0

kernel_and_e2e() { # FLAVOR
	local flavor=$1 append="" boot_timeout=600 final_timeout=120 debug=0
	if [ "$flavor" = debug ]; then
		append="panic_on_warn=1"
		boot_timeout=900
		# The final phase holds the soak (tests/debug/97-soak.sh).
		final_timeout=3500
		debug=1
	fi
	# TUX_TEST_APPEND: more kernel command line, for iterating on the tests
	# (SOAK_REQUESTS=30000 shortens the debug soak; NAME=VALUE reaches the
	# guest tests' environment). CI never sets it.
	append="$append ${TUX_TEST_APPEND:-}"
	local kernel_ok=0
	if [ $tree_ok = 1 ] && check "kernel/build-$flavor" "$LOGS/kernel-build-$flavor.log" \
		"$TUX_ROOT/tools/kernel-build.sh" build "$flavor"; then
		kernel_ok=1
		layer "kernel-$flavor" 1 0
	else
		layer "kernel-$flavor" 0 1
	fi
	if [ $fixture_ok = 0 ] && check "e2e/fixture" "$LOGS/fixture.log" build_fixture; then
		fixture_ok=1
	fi
	if [ $userland_ok = 0 ] && check "e2e/userland" "$LOGS/userland.log" build_userland; then
		userland_ok=1
	fi
	local initrd=$FIXTURE/initramfs-$flavor.cpio.gz
	if [ $kernel_ok = 1 ] && [ $fixture_ok = 1 ] && [ $userland_ok = 1 ] &&
		check "e2e/initramfs-$flavor" "$LOGS/initramfs-$flavor.log" \
			env TUX_GUEST_DEBUG=$debug GUEST_TOOLS="$GUEST_TOOLS" \
			GUEST_PROGRAMS="/usr/bin/wrk /usr/sbin/nginx" GUEST_MODULES="$TUX_CACHE/modules-$flavor" \
			"$TUX_ROOT/tools/mkinitramfs.sh" "$initrd" "$FIXTURE/www"; then
		python3 "$TUX_ROOT/tools/test/e2e.py" --kernel "$TUX_CACHE/bzImage-$flavor" \
			--initrd "$initrd" --manifest "$FIXTURE/manifest.json" --append "$append" \
			--boot-timeout $boot_timeout --final-timeout $final_timeout --log "$LOGS/console-$flavor.log" \
			--json "$LOGS/e2e-$flavor.json" | tee "$LOGS/e2e-$flavor.log" | grep -v '^e2e: '
		read -r ep ef < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], d["failed"])' \
			"$LOGS/e2e-$flavor.json" 2>/dev/null || echo "0 1")
		layer "e2e-$flavor" "$ep" "$ef"
	else
		echo "FAIL e2e-$flavor (not run: the kernel, fixture, userland or initramfs did not build)"
		layer "e2e-$flavor" 0 1
	fi
}

for flavor in ${TUX_TEST_FLAVORS:-lean debug}; do
	kernel_and_e2e "$flavor"
done

echo
say "make test took $((SECONDS - t_start)) s; logs in $LOGS"
[ ${#failed_layers[@]} = 0 ] || say "failing layers: ${failed_layers[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
