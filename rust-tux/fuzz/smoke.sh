#!/usr/bin/env bash
# Runs every fuzz target of tux-http for N seconds each (default 20), from a
# scratch copy of its seed corpus, and prints "PASS <target>" or
# "FAIL <target>" per target (make test's fuzz layer counts these lines).
# Exits non-zero if any target crashes. Needs the nightly toolchain and
# cargo-fuzz (make deps installs both). FUZZ_TARGET_DIR: where to build
# (make test keeps it under $TUX_CACHE).
#
#   rust-tux/fuzz/smoke.sh [SECONDS]
set -euo pipefail

secs="${1:-20}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

toolchain="${FUZZ_TOOLCHAIN:-nightly}"
if ! cargo +"$toolchain" --version >/dev/null 2>&1; then
    echo "smoke.sh: rust toolchain '$toolchain' is missing" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "smoke.sh: cargo-fuzz is missing: run 'make deps'" >&2
    exit 1
fi
tdir=()
[ -n "${FUZZ_TARGET_DIR:-}" ] && tdir=(--target-dir "$FUZZ_TARGET_DIR")

targets=$(cargo +"$toolchain" fuzz list)
if ! cargo +"$toolchain" fuzz build -O "${tdir[@]}" >/dev/null; then
    for t in $targets; do echo "FAIL $t (build)"; done
    exit 1
fi

status=0
for t in $targets; do
    mkdir -p "corpus/$t"
    # Fuzz into a scratch copy so the checked-in seed corpus stays small.
    work="$(mktemp -d)"
    cp -r "corpus/$t/." "$work/"
    echo "== $t (${secs}s)"
    if cargo +"$toolchain" fuzz run -O "${tdir[@]}" "$t" "$work" -- \
        -dict=http.dict -max_total_time="$secs" -max_len=4096 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>"$work.log"; then
        grep -E "stat::number_of_executed_units|^Done" "$work.log" || true
        echo "PASS $t"
    else
        status=1
        echo "FAIL $t"
        echo "!! $t failed; see artifacts/$t" >&2
        tail -n 40 "$work.log" >&2
    fi
    rm -rf "$work" "$work.log"
done
exit "$status"
