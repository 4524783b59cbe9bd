#!/usr/bin/env bash
# The exported series (tools/series.sh) on a clean tree, without
# tools/kernel-tree.sh: what someone with only the patches gets.
#
#   tools/test/series.sh test     make test's series layer: export, git am on
#                                 a clean Linux $KERNEL_VERSION tree, build
#                                 (tinyconfig + configs/qemu-lean.config +
#                                 configs/tux.config), boot in QEMU and serve
#                                 a request from it
#   tools/test/series.sh prepare  the same without the boot (make test builds in
#                                 the background), then: series.sh boot
#   tools/test/series.sh bisect   make bisect-check (a campaign, not in make
#                                 test): checkpatch --strict on every patch, and
#                                 every prefix of the series builds
#
# The clean tree is a git worktree of the pinned source's repository at its
# `base` tag ($TUX_CACHE/series-tree), built in $TUX_CACHE/build-series
# (bisect: bisect-tree and build-bisect, so that it can run beside make
# test). It
# is only reset and the series applied again when the export changed, so a
# second run with the same sources rebuilds nothing.
# Prints PASS/FAIL lines and "series: N passed, N failed, N expected".
set -uo pipefail
. "$(dirname "$0")/../common.sh"

mode=${1:-test}
OUT=$TUX_CACHE/series
TREE=$TUX_CACHE/series-tree
BUILD=$TUX_CACHE/build-series
# The campaign has a tree and build of its own: it may run beside make test.
if [ "$mode" = bisect ]; then
	OUT=$TUX_CACHE/series-bisect
	TREE=$TUX_CACHE/bisect-tree
	BUILD=$TUX_CACHE/build-bisect
fi
LOGS=${LOGS:-$TUX_CACHE/logs/series-$mode-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$LOGS"
pass=0 fail=0 expected=4
[ "$mode" = bisect ] && expected=0
result() { # NAME OK [LOG]
	if [ "$2" = 0 ]; then
		echo "PASS series/$1"
		pass=$((pass + 1))
	else
		echo "FAIL series/$1${3:+ (log: $3)}"
		[ -n "${3:-}" ] && tail -n 25 "$3" | sed 's/^/  | /'
		fail=$((fail + 1))
	fi
}
finish() {
	echo "series: $pass passed, $fail failed, $expected expected"
	[ "$fail" = 0 ] && [ $((pass + fail)) -ge "$expected" ]
	exit $?
}

# A clean tree at base, as a worktree of the pinned source's repository.
clean_tree() {
	if ! git -C "$TREE" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		rm -rf "$TREE"
		git -C "$TUX_KSRC" worktree prune
		git -C "$TUX_KSRC" worktree add -q --detach "$TREE" refs/tags/base || return 1
	fi
	git -C "$TREE" am --abort >/dev/null 2>&1
	git -C "$TREE" checkout -q -f --detach refs/tags/base && git -C "$TREE" clean -q -fdx
}

# apply: the export on a clean tree with git am, unless it is there already.
apply() {
	local want
	want=$(cat "$OUT"/0*.patch | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$TREE/.tux-series" 2>/dev/null)" = "$want" ] &&
		[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
		echo "the tree already holds this series: $(git -C "$TREE" rev-list --count refs/tags/base..HEAD) commits"
		return 0
	fi
	clean_tree || return 1
	local patches=()
	mapfile -t patches < <(ls "$OUT"/*.patch | grep -v '/0000-cover-letter.patch$')
	git -C "$TREE" -c user.name=tux-test -c user.email=tux-test@localhost am -q "${patches[@]}" || return 1
	[ "$(git -C "$TREE" rev-list --count refs/tags/base..HEAD)" = "${#patches[@]}" ] || return 1
	echo "$want" >"$TREE/.tux-series"
	echo "applied ${#patches[@]} patches"
}

KMAKE=(make -C "$TREE" O="$BUILD" -j"$(($(nproc) + 1))" -s)
# build: configure (when the fragments changed) and build bzImage.
build() {
	mkdir -p "$BUILD"
	local want
	want=$(cat "$TUX_ROOT/configs/qemu-lean.config" "$TUX_ROOT/configs/tux.config" | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$BUILD/.tux-config-id" 2>/dev/null)" != "$want" ] || [ ! -f "$BUILD/.config" ]; then
		"${KMAKE[@]}" tinyconfig >/dev/null &&
			"$TREE/scripts/kconfig/merge_config.sh" -m -O "$BUILD" "$BUILD/.config" \
				"$TUX_ROOT/configs/qemu-lean.config" "$TUX_ROOT/configs/tux.config" >/dev/null || return 1
		echo "$want" >"$BUILD/.tux-config-id"
	fi
	# olddefconfig each time: a prefix of the series may lack options.
	"${KMAKE[@]}" olddefconfig >/dev/null || return 1
	"${KMAKE[@]}" bzImage
}

case $mode in
test | prepare | boot)
	if [ "$mode" = boot ]; then
		expected=1
	else
		[ "$mode" = prepare ] && expected=3
		"$TUX_ROOT/tools/series.sh" "$OUT" >"$LOGS/export.log" 2>&1
		result export $? "$LOGS/export.log"
		[ $fail = 0 ] || finish
		apply >"$LOGS/git-am.log" 2>&1
		result git-am $? "$LOGS/git-am.log"
		[ $fail = 0 ] || finish
		{
			build && grep -qx 'CONFIG_TUX=y' "$BUILD/.config" ||
				{ echo "CONFIG_TUX=y is not in $BUILD/.config"; false; }
		} >"$LOGS/build.log" 2>&1
		result build $? "$LOGS/build.log"
		[ $fail = 0 ] && [ "$mode" = test ] || finish
	fi
	initrd=$TUX_CACHE/initramfs-series.cpio.gz
	{
		"$TUX_ROOT/tools/mkinitramfs.sh" "$initrd" &&
			python3 "$TUX_ROOT/tools/test/boot_serve.py" "$BUILD/arch/x86/boot/bzImage" "$initrd"
	} >"$LOGS/boot-serve.log" 2>&1
	result boot-serve $? "$LOGS/boot-serve.log"
	finish
	;;
bisect)
	"$TUX_ROOT/tools/series.sh" "$OUT" >"$LOGS/export.log" 2>&1
	result export $? "$LOGS/export.log"
	[ $fail = 0 ] || finish
	mapfile -t patches < <(ls "$OUT"/*.patch | grep -v '/0000-cover-letter.patch$')
	expected=$((1 + 2 * ${#patches[@]}))
	for p in "${patches[@]}"; do
		"$TUX_KSRC/scripts/checkpatch.pl" --quiet --no-tree --strict --ignore "$CHECKPATCH_IGNORE" "$p" \
			>"$LOGS/checkpatch-$(basename "$p" .patch).log" 2>&1
		result "checkpatch/$(basename "$p")" $? "$LOGS/checkpatch-$(basename "$p" .patch).log"
	done
	apply >"$LOGS/git-am.log" 2>&1 || { result git-am 1 "$LOGS/git-am.log"; finish; }
	mapfile -t commits < <(git -C "$TREE" rev-list --reverse refs/tags/base..HEAD)
	top=$(git -C "$TREE" rev-parse HEAD)
	i=0
	for c in "${commits[@]}"; do
		i=$((i + 1))
		name=$(basename "${patches[$((i - 1))]}")
		log=$LOGS/bisect-$(printf '%04d' $i).log
		# checkout touches only the files that differ: each build is incremental.
		{ git -C "$TREE" checkout -q --detach "$c" && build; } >"$log" 2>&1
		result "build/$name" $? "$log"
	done
	# Leave the tree at the whole series (its stamp still holds).
	git -C "$TREE" checkout -q --detach "$top"
	finish
	;;
*) die "usage: tools/test/series.sh [test|bisect]" ;;
esac
