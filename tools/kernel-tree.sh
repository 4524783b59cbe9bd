#!/usr/bin/env bash
# Prepare the kernel source tree under $TUX_KSRC:
#
#  - unpack the pinned linux-source package once into a git repository whose
#    first commit ("base") is the untouched source;
#  - apply linux-patches/*.patch with `git am` (stopping loudly on conflict),
#    re-applying from base only when the series changed;
#  - link rust-tux/ into the tree as net/tux/.
#
# Re-running is cheap and keeps unchanged files' mtimes, so kbuild stays
# incremental.
set -euo pipefail
. "$(dirname "$0")/common.sh"

GIT=(git -c user.name=tux-build -c user.email=tux-build@localhost -c advice.detachedHead=false)

unpack() {
	local deb tarball
	deb=$(ls "$TUX_DL/${KERNEL_PKG}_${KERNEL_PKG_VERSION//:/%3a}_"*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || die "kernel source package not downloaded: run 'make deps' first"
	say "unpacking Linux $KERNEL_VERSION into $TUX_KSRC (about 30 s)"
	rm -rf "$TUX_KSRC.tmp" && mkdir -p "$TUX_KSRC.tmp"
	tarball=usr/src/$KERNEL_PKG.tar.xz
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./$tarball" |
		tar -xJ -C "$TUX_KSRC.tmp" --strip-components=1
	[ -f "$TUX_KSRC.tmp/Makefile" ] || die "$deb did not contain $tarball"
	local v
	v=$(make -s -C "$TUX_KSRC.tmp" kernelversion)
	[ "$v" = "$KERNEL_VERSION" ] || die "unpacked kernel is $v, expected $KERNEL_VERSION"
	(
		cd "$TUX_KSRC.tmp"
		"${GIT[@]}" init -q -b upstream
		# The links to rust-tux/ sources are never part of the series.
		printf '/net/tux/*\n/include/uapi/linux/tux.h\n' >>.git/info/exclude
		"${GIT[@]}" add -A -f .
		"${GIT[@]}" commit -q -m "Linux $KERNEL_VERSION ($KERNEL_PKG $KERNEL_PKG_VERSION)"
		"${GIT[@]}" tag base
	)
	rm -rf "$TUX_KSRC" && mv "$TUX_KSRC.tmp" "$TUX_KSRC"
}

series_id() {
	local patches=("$TUX_ROOT"/linux-patches/*.patch)
	[ -e "${patches[0]}" ] || patches=(/dev/null)
	cat "${patches[@]}" | sha256sum | cut -d' ' -f1
}

apply_series() {
	local want have head
	want=$(series_id)
	have=$(cat "$TUX_KSRC/.git/tux-series" 2>/dev/null || true)
	head=$(git -C "$TUX_KSRC" rev-parse HEAD)
	if [ "$want" = "$have" ]; then
		# Work in progress in the tree (uncommitted changes, or commits not yet
		# turned into patches) is built as it is, never thrown away.
		if [ -n "$(git -C "$TUX_KSRC" status --porcelain --untracked-files=no)" ] ||
			[ "$head" != "$(cat "$TUX_KSRC/.git/tux-series-head" 2>/dev/null)" ]; then
			say "kernel tree has changes beyond linux-patches/: building them as they are (make patches to record them)"
		else
			say "patch series: applied ($(ls "$TUX_ROOT"/linux-patches/*.patch | wc -l) patches)"
		fi
		return
	fi
	if [ -n "$have" ] && { [ -n "$(git -C "$TUX_KSRC" status --porcelain --untracked-files=no)" ] ||
		[ "$head" != "$(cat "$TUX_KSRC/.git/tux-series-head" 2>/dev/null)" ]; }; then
		die "linux-patches/ changed, but $TUX_KSRC has work of its own: commit it and 'make patches', or reset it (git -C $TUX_KSRC checkout -f tux && git -C $TUX_KSRC reset --hard base)"
	fi
	say "patch series: applying linux-patches/ with git am"
	(
		cd "$TUX_KSRC"
		"${GIT[@]}" am --abort >/dev/null 2>&1 || true
		"${GIT[@]}" checkout -q -f -B tux refs/tags/base
		rm -f .git/tux-series
		local p
		for p in "$TUX_ROOT"/linux-patches/*.patch; do
			[ -e "$p" ] || continue
			if ! "${GIT[@]}" am -q --whitespace=nowarn "$p"; then
				"${GIT[@]}" am --show-current-patch=diff | head -n 40 >&2 || true
				"${GIT[@]}" am --abort || true
				die "patch $(basename "$p") does not apply to Linux $KERNEL_VERSION (tree: $TUX_KSRC)"
			fi
		done
	)
	printf '%s\n' "$want" >"$TUX_KSRC/.git/tux-series"
	git -C "$TUX_KSRC" rev-parse HEAD >"$TUX_KSRC/.git/tux-series-head"
}

# Link the kernel sources of rust-tux/ (the crate root tux.rs, its modules
# and module directories) into net/tux/, next to the Kconfig and Makefile
# that the patch series adds. Host-only parts (Cargo, tests, fuzz) stay out.
link_subsystem() {
	local dir=$TUX_KSRC/net/tux src name
	[ -f "$dir/Makefile" ] || die "net/tux/Makefile is missing: the patch series did not apply"
	for src in "$dir"/*; do
		[ -L "$src" ] || continue
		case $(readlink "$src") in "$TUX_ROOT"/rust-tux/* | "$TUX_ROOT"/syscall-abi/*) [ -e "$src" ] && continue ;; esac
		rm -f "$src"
	done
	for name in $(subsystem_entries); do
		src=$TUX_ROOT/rust-tux/$name
		[ "$(readlink "$dir/$name" 2>/dev/null)" = "$src" ] || ln -sfn "$src" "$dir/$name"
	done
	# The tux(2) ABI has one definition, syscall-abi/: the kernel builds its
	# Rust file as a module of the tux crate and installs its C header.
	# (Trees unpacked before the ABI existed do not ignore its header yet.)
	grep -qx '/include/uapi/linux/tux.h' "$TUX_KSRC/.git/info/exclude" ||
		printf '/include/uapi/linux/tux.h\n' >>"$TUX_KSRC/.git/info/exclude"
	link "$TUX_ROOT/syscall-abi/abi.rs" "$dir/abi.rs"
	link "$TUX_ROOT/syscall-abi/include/uapi/linux/tux.h" "$TUX_KSRC/include/uapi/linux/tux.h"
}

link() {
	[ "$(readlink "$2" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$2"
}

if ! { [ -d "$TUX_KSRC/.git" ] && git -C "$TUX_KSRC" rev-parse -q --verify refs/tags/base >/dev/null; }; then
	unpack
fi
apply_series
link_subsystem
