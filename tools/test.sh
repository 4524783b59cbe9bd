#!/usr/bin/env bash
# make test: every layer, one summary.
#
#   deps      make deps (a failure here fails everything after it)
#   patches   the series applies with git am on the pinned tree; checkpatch
#   host      cargo test of the workspace, rustfmt, clippy, make doc, the e2e parser self-test, passt's framing
#   fuzz      every cargo-fuzz target of the HTTP core, TUX_FUZZ_SECONDS (20) each
#   kernel-F  the TUX kernel of flavor F builds (lean, then debug), in the
#             background while the layers before it run (see start_prebuild)
#   e2e-F     one QEMU boot of it: KUnit (KTAP), in-guest tests, host tests
#   run       make run as a user meets it: the first-module walk-through of
#             Documentation/tux/libtux.rst, the guest's daemon, modules, CGI
#   series    the exported series (make series) applied with git am to a clean
#             tree, built, booted, serving a request (its build runs in the
#             background during the last e2e layer)
#
# Both kernels run by default; TUX_TEST_FLAVORS=lean (make test-lean) or
# debug (make test-debug) runs one. make test runs the short versions of the
# campaigns (SOAK_REQUESTS=50000 on the debug kernel, 100,000 tux(2) calls on
# the lean one, 20 s per fuzz target); the campaigns are their own targets:
#
#   tools/test.sh soak     make soak: deps, patches, the debug kernel and its
#                          e2e run with the full soak (SOAK_REQUESTS, 1,000,000)
#   tools/test.sh tuxfuzz  make tuxfuzz: deps, patches, the lean kernel and its
#                          e2e run with TUXFUZZ_CALLS (1,000,000) tux(2) calls
#   tools/test.sh fuzz     make fuzz: deps and every cargo-fuzz target for
#                          FUZZ_SECONDS (600) each
#
# Each layer reports "<layer>: N passed, N failed, N expected (T s)": the
# expected count is what the layer should have given (tests listed by cargo,
# fuzz targets in rust-tux/fuzz/Cargo.toml, patches, the e2e run's own
# count), and results missing from it count as failed. T is the layer's wall
# time (kernel-F the wait for its background build, e2e-F the fixture, guest
# userland, initramfs and boot). A table of the layers' times and the total precedes the last line,
# which sums every layer: "N passed, N failed". A layer that cannot run
# because an earlier one failed counts as failed, never as skipped.
set -uo pipefail
. "$(dirname "$0")/common.sh"

mode=${1:-test}
case $mode in
test) layers="deps host fuzz patches kernel" ;;
soak | tuxfuzz) layers="deps patches kernel" ;;
fuzz) layers="deps fuzz" ;;
*) die "usage: tools/test.sh [soak|tuxfuzz|fuzz]" ;;
esac
runs() { case " $layers " in *" $1 "*) return 0 ;; esac; return 1; }

LOGS=$TUX_CACHE/logs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$LOGS"
# Keep the last ten runs' logs.
ls -1d "$TUX_CACHE"/logs/test-* 2>/dev/null | head -n -10 | xargs -r rm -rf
total_pass=0
total_fail=0
failed_layers=()
times=()
layer_t0=$SECONDS

# layer NAME PASSED FAILED [EXPECTED]: the layer's line, with its wall time
# since the previous layer's line. Results short of EXPECTED count as failed.
layer() {
	local name=$1 p=$2 f=$3 want=${4:-} secs=$((SECONDS - layer_t0)) exp=""
	if [ -n "$want" ]; then
		if [ $((p + f)) -lt "$want" ]; then
			echo "FAIL $name: $((p + f)) results of $want expected; the $((want - p - f)) missing count as failed"
			f=$((want - p))
		fi
		exp=", $want expected"
	fi
	printf '\033[1m%s: %d passed, %d failed%s (%d s)\033[0m\n' "$name" "$p" "$f" "$exp" "$secs"
	times+=("$(printf '%-14s %7d %7d %9s %7d s' "$name" "$p" "$f" "${want:--}" "$secs")")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" = 0 ] || failed_layers+=("$name")
	layer_t0=$SECONDS
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
say "make $mode: logs in $LOGS"

# Kernels are built in the background, at a lower priority, while other
# layers run, so that both cores stay busy: the first flavor's during the
# host and fuzz layers (cargo and the fuzzers leave a core idle for long
# stretches), the next one's during the previous flavor's e2e run (its tests
# wait on timeouts, sleeps and the guest's clock). A kernel layer then waits
# for its build: its time is the wait, not the build.
prebuild_flavor="" prebuild_pid=""
start_prebuild() { # FLAVOR
	prebuild_flavor=$1
	(
		nice -n 10 "$TUX_ROOT/tools/kernel-build.sh" build "$1" >"$LOGS/kernel-build-$1.log" 2>&1
		echo $? >"$LOGS/kernel-build-$1.rc"
	) &
	prebuild_pid=$!
	echo "kernel/build-$1: building in the background (log: $LOGS/kernel-build-$1.log)"
}
# The series layer's export, git am and build (tools/test/series.sh
# prepare), in the background like the kernels.
series_pid=""
start_series() {
	(LOGS=$LOGS nice -n 10 "$TUX_ROOT/tools/test/series.sh" prepare >"$LOGS/series-prepare.log" 2>&1) &
	series_pid=$!
	echo "series: export, git am and build in the background (log: $LOGS/series-prepare.log)"
}
# build_kernel FLAVOR: the kernel layer's check, by a build here or by waiting
# for the background one.
build_kernel() {
	if [ "$prebuild_flavor" = "$1" ]; then
		wait "$prebuild_pid"
		prebuild_flavor=""
		if [ "$(cat "$LOGS/kernel-build-$1.rc" 2>/dev/null)" = 0 ]; then
			echo "PASS kernel/build-$1"
			return 0
		fi
		echo "FAIL kernel/build-$1 (log: $LOGS/kernel-build-$1.log)"
		tail -n 30 "$LOGS/kernel-build-$1.log" | sed 's/^/  | /'
		return 1
	fi
	check "kernel/build-$1" "$LOGS/kernel-build-$1.log" "$TUX_ROOT/tools/kernel-build.sh" build "$1"
}

case $mode in
soak) flavors=debug ;;
tuxfuzz) flavors=lean ;;
*) flavors=${TUX_TEST_FLAVORS:-lean debug} ;;
esac

# --- deps --------------------------------------------------------------
deps_ok=1
if check deps "$LOGS/deps.log" "$TUX_ROOT/tools/deps.sh"; then
	layer deps 1 0 1
else
	layer deps 0 1 1
	deps_ok=0
fi

# --- patches -----------------------------------------------------------
# (The campaigns need the tree only: they leave checkpatch to make test.)
tree_ok=0
if runs patches; then
	p=0 f=0
	patches=("$TUX_ROOT"/linux-patches/*.patch)
	[ "$mode" = test ] || patches=()
	patches_expected=$((1 + ${#patches[@]}))
	if [ $deps_ok = 1 ] && check "patches/git-am" "$LOGS/tree.log" "$TUX_ROOT/tools/kernel-tree.sh"; then
		p=$((p + 1))
		for patch in "${patches[@]}"; do
			if check "patches/checkpatch/$(basename "$patch")" "$LOGS/checkpatch.log" \
				"$TUX_KSRC/scripts/checkpatch.pl" --quiet --no-tree --strict \
				--ignore "$CHECKPATCH_IGNORE" "$patch"; then
				p=$((p + 1))
			else
				f=$((f + 1))
			fi
		done
	else
		f=$((f + 1))
fi
tree_ok=$((f == 0))
layer patches $p $f $patches_expected
fi
# The first kernel builds while the host and fuzz layers run.
if [ $tree_ok = 1 ] && runs kernel; then
	start_prebuild "${flavors%% *}"
fi

# --- host --------------------------------------------------------------
cd "$TUX_ROOT"
if runs host; then
	p=0 f=0
	if cargo test --workspace --no-fail-fast >"$LOGS/cargo-test.log" 2>&1; then rc=0; else rc=$?; fi
	read -r cp cf ci < <(awk '/^test result:/ { p += $4; f += $6; i += $8 } END { print p + 0, f + 0, i + 0 }' "$LOGS/cargo-test.log")
	grep -E '^test .* FAILED$|^---- ' "$LOGS/cargo-test.log" | sed 's/^/  | /'
	p=$((p + cp)) f=$((f + cf))
	# What should have run: the tests the same build lists (unit, integration and
	# doc tests; cheap, the binaries are built), less the ignored ones. A test
	# binary that dies takes its unreported tests with it: they count as failed.
	host_expected= listed=
	if cargo test --workspace -- --list >"$LOGS/cargo-list.log" 2>&1; then
		listed=$(awk '/^[0-9]+ tests?, [0-9]+ benchmarks?$/ { n += $1 } END { print n + 0 }' "$LOGS/cargo-list.log")
		host_expected=$((listed - ci + 7)) # and rustfmt, rustfmt-kernel, clippy, doc, e2e-selftest, passt-*
fi
if [ "$rc" != 0 ] && [ "$cf" = 0 ]; then
	echo "FAIL cargo test (exit $rc without a failed test: build error? log: $LOGS/cargo-test.log)"
	tail -n 30 "$LOGS/cargo-test.log" | sed 's/^/  | /'
	f=$((f + 1))
else
	echo "cargo test: $cp passed, $cf failed, $ci ignored${listed:+, $listed listed}"
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
# make doc: the API docs of the userspace crates, warnings as errors.
if check doc "$LOGS/doc.log" make -C "$TUX_ROOT" --no-print-directory doc; then p=$((p + 1)); else f=$((f + 1)); fi
# The e2e harness finds results missing from a console (tools/test/e2e_selftest.py).
if check e2e-selftest "$LOGS/e2e-selftest.log" python3 "$TUX_ROOT/tools/test/e2e_selftest.py"; then
	p=$((p + 1))
else
	f=$((f + 1))
fi
# The passt of make deps keeps QEMU's stream framing when a length arrives
# in two reads (tools/test/passt_framing.py; Debian 12's does not).
if check passt-framing "$LOGS/passt-framing.log" python3 "$TUX_ROOT/tools/test/passt_framing.py"; then
	p=$((p + 1))
else
	f=$((f + 1))
fi
# tuxvm.Passt returns only once passt listens (tools/test/passt_ready.py).
if check passt-ready "$LOGS/passt-ready.log" python3 "$TUX_ROOT/tools/test/passt_ready.py"; then
	p=$((p + 1))
else
	f=$((f + 1))
fi
layer host $p $f $host_expected
fi

# --- fuzz ---------------------------------------------------------------
# make test: a short smoke run of every cargo-fuzz target of the HTTP core;
# make fuzz: the campaign, FUZZ_SECONDS (600) each (results in
# Documentation/tux/hardening.rst). The seed corpora and crash reproducers
# are also replayed by cargo test (rust-tux/tests/props.rs). One result per
# [[bin]] of rust-tux/fuzz/Cargo.toml is expected.
if runs fuzz; then
	p=0 f=0
	FUZZ_SECS=${TUX_FUZZ_SECONDS:-20}
	[ "$mode" = fuzz ] && FUZZ_SECS=${FUZZ_SECONDS:-600}
	fuzz_expected=$(grep -c '^\[\[bin\]\]' "$TUX_ROOT/rust-tux/fuzz/Cargo.toml")
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
layer fuzz $p $f $fuzz_expected
fi

# --- kernel and e2e, per flavor ------------------------------------------
# lean: the fast test kernel. debug: the same plus KASAN, UBSAN, KFENCE,
# lockdep, DEBUG_OBJECTS and kmemleak (configs/debug.config), booted with
# panic_on_warn; any report fails the run.
FIXTURE=$TUX_CACHE/fixture
build_fixture() {
	rm -rf "$FIXTURE" && mkdir -p "$FIXTURE" &&
		python3 "$TUX_ROOT/tools/test/fixture.py" "$FIXTURE/www" --manifest "$FIXTURE/manifest.json" &&
		"$TUX_ROOT/tools/test/tls-certs.sh" "$TUX_CACHE/tls-test"
}
# Host programs the guest tests run: load (wrk), the hand-off peer (nginx),
# and HTTPS clients (curl, openssl s_client).
GUEST_PROGRAMS="/usr/bin/wrk /usr/sbin/nginx /usr/bin/curl /usr/bin/openssl"
fixture_ok=0

# The project's userspace that runs in the guest: the tux daemon, the libtux
# examples (user modules) and the tux(2) test program.
USERLAND=$TUX_ROOT/target/debug
GUEST_TOOLS="$USERLAND/tux $USERLAND/tuxcall-test $USERLAND/tuxfuzz $USERLAND/mksock $USERLAND/listen1 $USERLAND/srcconns $USERLAND/finlost $USERLAND/tuxnetns $USERLAND/examples/hello $USERLAND/examples/json $USERLAND/examples/postpone $USERLAND/examples/redirect"
build_userland() {
	(cd "$TUX_ROOT" && cargo build -p tux -p tux-guest-tests -p libtux --bins --examples)
}
userland_ok=0

# The pinned kernel's kTLS selftests (tools/testing/selftests/net/tls.c), run
# in the guest by tests/guest/54-ktls-selftests.sh: the series changes kTLS.
# Built once, against the tree's exported uapi headers (no configuration
# needed: their own build directory).
KTLS_SELFTESTS=$TUX_CACHE/ktls-selftests
build_ktls_selftests() {
	local src=$TUX_KSRC/tools/testing/selftests hdrs=$TUX_CACHE/uapi-headers
	make -C "$TUX_KSRC" O="$hdrs" -s headers &&
		gcc -O2 -D_GNU_SOURCE -I "$src" -I "$hdrs/usr/include" \
			-o "$KTLS_SELFTESTS" "$src/net/tls.c" -lpthread
}
ktls_ok=0

# The KUnit suites the sources define (rust-tux, and the abstractions the
# series adds to rust/kernel): each must report (e2e --expect-kunit-suite).
kunit_suites() {
	{
		grep -rhE '^\s*#\[([a-z_]+::)*kunit_tests\([a-z0-9_]+\)\]' --include='*.rs' "$TUX_ROOT/rust-tux"
		grep -hE '^\+\s*#\[([a-z_]+::)*kunit_tests\([a-z0-9_]+\)\]' "$TUX_ROOT"/linux-patches/*.patch
	} | sed -E 's/.*kunit_tests\(([a-z0-9_]+)\).*/\1/' | sort -u
}

# Campaign sizes (make soak, make tuxfuzz) and make test's short versions,
# passed to the guest tests as NAME=VALUE on the kernel command line (the
# kernel hands such parameters to init's environment). The guest tests'
# defaults are the campaigns'.
#  - soak (debug): 50,000 requests instead of 1,000,000. That is one to three
#    30 s pipelined rounds after the warm-up, the first with the rounds of one
#    request per write (64 connections) and of connection per request: every
#    kind of request and connection runs twice (warm-up and round 1), the
#    slab must be back within 1 MiB (a leak of 21 bytes a request, or of
#    anything per connection, is over it) and kmemleak must be clean. The 3xx
#    class, about 5.5% of the mix, must exceed 1,000: at least ~20,000
#    requests; 50,000 leaves a margin.
#    Its closed connections skip TIME_WAIT (SOAK_NO_TIME_WAIT=1), which saves
#    the two 50-second waits for TIME_WAIT to end before the slab is measured.
#  - tux(2) fuzz (lean): 100,000 calls instead of 1,000,000 (about 5 s): with
#    31 actions, 10 pointer kinds and 10 sizes, every action meets every
#    pointer kind about 300 times. The debug kernel's run is time-boxed to 30 s
#    instead of the campaign's 100 s (about 200,000 calls at the 6,800 calls/s
#    seen under KASAN; at least 20,000 must be made).
SHORT_SOAK=50000
SHORT_TUXFUZZ=100000
SHORT_TUXFUZZ_DEBUG_SECS=30
# with_arg NAME=VALUE: the argument unless TUX_TEST_APPEND sets NAME.
with_arg() {
	case " ${TUX_TEST_APPEND:-} " in *" ${1%%=*}="*) ;; *) echo "$1" ;; esac
}

kernel_and_e2e() { # FLAVOR [NEXT]: NEXT's kernel is built during FLAVOR's e2e
	local flavor=$1 next=${2:-} append="" boot_timeout=600 final_timeout=120 debug=0
	local guest_dirs=(--expect-guest-dir "$TUX_ROOT/tools/guest/tests/guest"
		--expect-guest-dir "$TUX_ROOT/tools/guest/tests/final")
	if [ "$flavor" = debug ]; then
		append="panic_on_warn=1"
		boot_timeout=900
		# The final phase holds the soak (tests/debug/97-soak.sh): the full
		# one is given its 3200 s, the short one 1800 s at most.
		if [ "$mode" = soak ]; then
			append="$append $(with_arg "SOAK_REQUESTS=${SOAK_REQUESTS:-1000000}")"
			final_timeout=3500
		else
			append="$append $(with_arg "SOAK_REQUESTS=$SHORT_SOAK") $(with_arg "SOAK_NO_TIME_WAIT=1")"
			append="$append $(with_arg "TUXFUZZ_SECONDS=$SHORT_TUXFUZZ_DEBUG_SECS")"
			final_timeout=1800
		fi
		debug=1
		guest_dirs+=(--expect-guest-dir "$TUX_ROOT/tools/guest/tests/debug")
	elif [ "$mode" = tuxfuzz ]; then
		local calls=${TUXFUZZ_CALLS:-1000000}
		append="$(with_arg "TUXFUZZ_CALLS=$calls") $(with_arg "TUXFUZZ_MIN=${TUXFUZZ_MIN:-$calls}")"
	else
		append="$(with_arg "TUXFUZZ_CALLS=$SHORT_TUXFUZZ") $(with_arg "TUXFUZZ_MIN=$SHORT_TUXFUZZ")"
	fi
	# TUX_TEST_APPEND: more kernel command line, for iterating on the tests
	# (NAME=VALUE reaches the guest tests' environment and replaces the
	# sizes above). CI never sets it.
	append="$append ${TUX_TEST_APPEND:-}"
	local suites=() s
	for s in $(kunit_suites); do suites+=(--expect-kunit-suite "$s"); done
	local kernel_ok=0
	if [ $tree_ok = 1 ] && build_kernel "$flavor"; then
		kernel_ok=1
		layer "kernel-$flavor" 1 0 1
	else
		layer "kernel-$flavor" 0 1 1
	fi
	if [ $kernel_ok = 1 ] && [ $ktls_ok = 0 ] &&
		check "e2e/ktls-selftests" "$LOGS/ktls-selftests.log" build_ktls_selftests; then
		ktls_ok=1
	fi
	[ $tree_ok = 1 ] && [ -n "$next" ] && start_prebuild "$next"
	# The last flavor's e2e run: the exported series builds meanwhile.
	[ $tree_ok = 1 ] && [ -z "$next" ] && [ "$mode" = test ] && start_series
	if [ $fixture_ok = 0 ] && check "e2e/fixture" "$LOGS/fixture.log" build_fixture; then
		fixture_ok=1
	fi
	if [ $userland_ok = 0 ] && check "e2e/userland" "$LOGS/userland.log" build_userland; then
		userland_ok=1
	fi
	local initrd=$FIXTURE/initramfs-$flavor.cpio.gz guest_tools=$GUEST_TOOLS
	[ $ktls_ok = 1 ] && guest_tools="$guest_tools $KTLS_SELFTESTS"
	if [ $kernel_ok = 1 ] && [ $fixture_ok = 1 ] && [ $userland_ok = 1 ] &&
		check "e2e/initramfs-$flavor" "$LOGS/initramfs-$flavor.log" \
			env TUX_GUEST_DEBUG=$debug GUEST_TOOLS="$guest_tools" GUEST_TLS="$TUX_CACHE/tls-test" \
			GUEST_PROGRAMS="$GUEST_PROGRAMS" GUEST_MODULES="$TUX_CACHE/modules-$flavor" \
			"$TUX_ROOT/tools/mkinitramfs.sh" "$initrd" "$FIXTURE/www"; then
		python3 "$TUX_ROOT/tools/test/e2e.py" --kernel "$TUX_CACHE/bzImage-$flavor" \
			--initrd "$initrd" --manifest "$FIXTURE/manifest.json" --tls-dir "$TUX_CACHE/tls-test" --append "$append" \
			--boot-timeout $boot_timeout --final-timeout $final_timeout --log "$LOGS/console-$flavor.log" \
			"${guest_dirs[@]}" "${suites[@]}" \
			--json "$LOGS/e2e-$flavor.json" | tee "$LOGS/e2e-$flavor.log" | grep -v '^e2e: '
		# The figures the soak and the tux(2) fuzzer print on the console
		# (what Documentation/tux/hardening.rst records), without the soak's
		# progress lines.
		grep -aE '^(soak|tuxfuzz): ' "$LOGS/console-$flavor.log" | grep -v ' requests after ' | sed 's/^/  /'
		read -r ep ef ee < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], d["failed"], d["expected"])' \
			"$LOGS/e2e-$flavor.json" 2>/dev/null || echo "0 1 1")
		layer "e2e-$flavor" "$ep" "$ef" "$ee"
	else
		echo "FAIL e2e-$flavor (not run: the kernel, fixture, userland or initramfs did not build)"
		layer "e2e-$flavor" 0 1
	fi
}

if runs kernel; then
	set -- $flavors
	while [ $# -gt 0 ]; do
		kernel_and_e2e "$1" "${2:-}"
		shift
	done
fi

# --- run ---------------------------------------------------------------
# make run as a user meets it, with the lean kernel: "Your first module" of
# Documentation/tux/libtux.rst step by step (cargo new outside the tree, the
# document's code, make run MODULES=..., curl through the forwarded port),
# the daemon, modules and CGI of the default guest, and TUX_CONFIG
# (tools/test/first_module.py). After the kernels' layers: make run's own
# kernel build must not race theirs.
if [ "$mode" = test ] && [[ " $flavors " == *" lean "* ]]; then
	if [ $tree_ok = 1 ]; then
		python3 "$TUX_ROOT/tools/test/first_module.py" --work "$TUX_CACHE/first-module" \
			--logs "$LOGS" 2>&1 | tee "$LOGS/run.log" | grep -E '^(PASS|FAIL) '
		read -r rp rf re < <(sed -nE 's/^run: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) expected$/\1 \2 \3/p' \
			"$LOGS/run.log" | tail -n 1)
		layer run "${rp:-0}" "${rf:-1}" "${re:-1}"
	else
		echo "FAIL run (not run: the kernel tree did not build)"
		layer run 0 1
	fi
fi

# --- series ------------------------------------------------------------
# The whole of TUX as the exported series (make series): git am on a clean
# tree, built without tools/kernel-tree.sh, booted, one request served
# (tools/test/series.sh; its build ran in the background).
if [ "$mode" = test ]; then
	if [ -n "$series_pid" ]; then
		wait "$series_pid"
		grep -E '^(PASS|FAIL) |^  \| ' "$LOGS/series-prepare.log"
		read -r sp sf < <(sed -nE 's/^series: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$LOGS/series-prepare.log")
		sp=${sp:-0} sf=${sf:-1}
		if [ "$sf" = 0 ]; then
			LOGS=$LOGS "$TUX_ROOT/tools/test/series.sh" boot >"$LOGS/series-boot.log" 2>&1
			grep -E '^(PASS|FAIL) |^  \| ' "$LOGS/series-boot.log"
			read -r bp bf < <(sed -nE 's/^series: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' "$LOGS/series-boot.log")
			sp=$((sp + ${bp:-0})) sf=$((sf + ${bf:-1}))
		fi
		layer series "$sp" "$sf" 4
	else
		echo "FAIL series (not run: the kernel tree did not build)"
		layer series 0 1 4
	fi
fi

echo
printf '%-14s %7s %7s %9s %9s\n' layer passed failed expected time
printf '%s\n' "${times[@]}"
printf '%-14s %7d %7d %9s %7d s\n' total "$total_pass" "$total_fail" "" $((SECONDS - t_start))
say "make $mode took $((SECONDS - t_start)) s; logs in $LOGS"
[ ${#failed_layers[@]} = 0 ] || say "failing layers: ${failed_layers[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
