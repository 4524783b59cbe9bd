#!/usr/bin/env bash
# make patches: regenerate linux-patches/ from the kernel tree.
#
# Kernel changes are made as commits on the `tux` branch of $TUX_KSRC (on
# top of the `base` tag, the unpacked pinned source). This script turns
# base..tux into linux-patches/NNNN-*.patch with `git format-patch` and runs
# checkpatch on the result. Patch files are never edited by hand.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cd "$TUX_KSRC"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$TUX_KSRC has uncommitted changes: commit them on branch tux first"
n=$(git rev-list --count base..tux)
[ "$n" -gt 0 ] || die "branch tux has no commits on top of base"
rm -f "$TUX_ROOT"/linux-patches/*.patch
git format-patch -q --zero-commit --no-signature --no-numbered \
	-o "$TUX_ROOT/linux-patches" base..tux
printf '%s\n' "$(cat "$TUX_ROOT"/linux-patches/*.patch | sha256sum | cut -d' ' -f1)" >.git/tux-series
git rev-parse HEAD >.git/tux-series-head
say "wrote $n patches to linux-patches/"
./scripts/checkpatch.pl --quiet --no-tree --strict --ignore "$CHECKPATCH_IGNORE" \
	"$TUX_ROOT"/linux-patches/*.patch || die "checkpatch found problems"
say "checkpatch: clean"
