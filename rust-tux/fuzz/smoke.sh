#!/usr/bin/env bash
# Runs every fuzz target of tux-http for N seconds each (default 20).
# Exits non-zero if any target crashes. Needs a nightly toolchain.
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
    echo "smoke.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

targets=$(cargo +"$toolchain" fuzz list)
cargo +"$toolchain" fuzz build -O >/dev/null

status=0
for t in $targets; do
    mkdir -p "corpus/$t"
    # Fuzz into a scratch copy so the checked-in seed corpus stays small.
    work="$(mktemp -d)"
    cp -r "corpus/$t/." "$work/"
    echo "== $t (${secs}s)"
    if cargo +"$toolchain" fuzz run -O "$t" "$work" -- \
        -dict=http.dict -max_total_time="$secs" -max_len=4096 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>"$work.log"; then
        grep -E "stat::number_of_executed_units|^Done" "$work.log" || true
    else
        status=1
        echo "!! $t failed; see artifacts/$t" >&2
        tail -n 40 "$work.log" >&2
    fi
    rm -rf "$work" "$work.log"
done
exit "$status"
