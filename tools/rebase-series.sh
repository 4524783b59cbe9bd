#!/usr/bin/env bash
# Rebase the exported series (make series) onto another kernel tree: a
# newer 7.3.y, or one's own tree.
#
# usage: tools/rebase-series.sh TREE [REF]
#
# TREE is a git checkout of the kernel; REF (default: its HEAD) the commit to
# build on. A branch tux-on-<REF> is made there and the series applied with
# `git am -3`, so that a hunk whose context moved is merged with the blob the
# patch names (the pinned tree's) instead of failing. On a conflict the
# script stops and says what to do: fix the files, `git add` them,
# `git am --continue`, and run the script again with the same arguments to
# check the rest (it resumes; it never discards work in progress). When all
# patches are in, it prints how to build the result and how to move the
# project's pin.
set -euo pipefail
. "$(dirname "$0")/common.sh"

tree=${1:?usage: tools/rebase-series.sh TREE [REF]}
git -C "$tree" rev-parse -q --verify HEAD >/dev/null || die "$tree is not a git checkout of the kernel"
ref=${2:-HEAD}
target=$(git -C "$tree" rev-parse -q --verify "$ref^{commit}") || die "$ref is not a commit of $tree"
branch=tux-on-$(printf '%s' "$ref" | tr -c 'A-Za-z0-9._\n-' '-')
series=$TUX_CACHE/series

am_dir=$(git -C "$tree" rev-parse --git-path rebase-apply)
case $am_dir in /*) ;; *) am_dir=$tree/$am_dir ;; esac
if [ -d "$am_dir" ]; then
	say "a git am is in progress in $tree: resolve it and run 'git -C $tree am --continue' (or --abort)"
	git -C "$tree" am --show-current-patch=diff 2>/dev/null | head -n 5 || true
	exit 1
fi

"$TUX_ROOT/tools/series.sh" "$series"
mapfile -t patches < <(ls "$series"/*.patch | grep -v '/0000-cover-letter.patch$')
if [ "$(git -C "$tree" rev-parse --abbrev-ref HEAD)" = "$branch" ]; then
	done_n=$(git -C "$tree" rev-list --count "$target..HEAD")
	say "resuming on $branch: $done_n of ${#patches[@]} patches are in"
else
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "$tree has uncommitted changes: commit or stash them first"
	git -C "$tree" checkout -q -B "$branch" "$target"
	done_n=0
	say "on $branch at $(git -C "$tree" log -1 --format='%h %s' "$target")"
fi
rest=("${patches[@]:$done_n}")
if [ ${#rest[@]} -gt 0 ] && ! git -C "$tree" am -3 -q "${rest[@]}"; then
	cat >&2 <<-EOF

	[tux] $(git -C "$tree" am --show-current-patch=raw 2>/dev/null | sed -n 's/^Subject: \(\[PATCH[^]]*\] \)*//p' | head -n 1)
	[tux] does not apply cleanly on $ref. Conflicted files:
	$(git -C "$tree" diff --name-only --diff-filter=U | sed 's/^/	  /')
	[tux] Resolve them (the patch: git -C $tree am --show-current-patch=diff),
	[tux] then: git -C $tree add <files> && git -C $tree am --continue
	[tux] and run: $0 $tree $ref
	EOF
	exit 1
fi
say "all ${#patches[@]} patches are on $branch in $tree"
cat <<-EOF
	Build it (the fragments of make test's series layer):
	  make -C $tree O=<build dir> tinyconfig
	  $tree/scripts/kconfig/merge_config.sh -m -O <build dir> <build dir>/.config \\
	      $TUX_ROOT/configs/qemu-lean.config $TUX_ROOT/configs/tux.config
	  make -C $tree O=<build dir> olddefconfig bzImage
	To move the project's pin to this kernel, see Documentation/tux/build.rst,
	"Rebasing onto a newer kernel".
EOF
