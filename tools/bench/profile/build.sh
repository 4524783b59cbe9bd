#!/bin/sh
# Build the tuxprof QEMU plugin into $TUX_CACHE/tuxprof.so (default
# ~/.cache/tux). tools/bench/profile.py does the same on demand.
set -eu
out=${TUX_CACHE:-$HOME/.cache/tux}/tuxprof.so
mkdir -p "$(dirname "$out")"
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$out.tmp" \
	"$(dirname "$0")/tuxprof.c" -lpthread
mv "$out.tmp" "$out"
echo "$out"
