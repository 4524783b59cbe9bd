#!/usr/bin/env bash
# make kernel / make defconfig: configure and build bzImage.
#
# usage: kernel-build.sh [config|build] FLAVOR
#
# Flavors (configs/*.config are merged in order on top of a base):
#   lean       tinyconfig + qemu-lean + tux + kunit   (CI and `make test`)
#   debug      lean + debug (KASAN, UBSAN, KFENCE, lockdep, kmemleak...)
#   defconfig  x86_64_defconfig + tux                  (`make defconfig`)
#
# The build directory is $TUX_CACHE/build-FLAVOR. It is reconfigured only
# when a fragment changed, so rebuilds stay incremental.
set -euo pipefail
. "$(dirname "$0")/common.sh"

action=${1:-build}
flavor=${2:-lean}
BUILD=$TUX_CACHE/build-$flavor
JOBS=${JOBS:-$(($(nproc) + 1))}

case $flavor in
lean) base=tinyconfig; fragments=(qemu-lean tux kunit) ;;
# Rust with KASAN needs clang (init/Kconfig: !KASAN || CC_IS_CLANG).
debug) base=tinyconfig; fragments=(qemu-lean tux kunit debug); TUX_LLVM=1 ;;
defconfig) base=x86_64_defconfig; fragments=(tux) ;;
*) die "unknown kernel flavor '$flavor' (lean, debug or defconfig)" ;;
esac
# GCC builds ~25% faster than clang here; TUX_LLVM=1 selects LLVM=-19.
KMAKE=(make -C "$TUX_KSRC" O="$BUILD" -j"$JOBS" -s)
[ "${TUX_LLVM:-0}" = 1 ] && KMAKE+=(LLVM=-19)
[ -n "${CLIPPY:-}" ] && KMAKE+=(CLIPPY=1)
fragment_files=()
for f in "${fragments[@]}"; do fragment_files+=("$TUX_ROOT/configs/$f.config"); done

config_id() {
	printf '%s %s %s\n' "$base" "${TUX_LLVM:-0}" "$KERNEL_VERSION"
	cat "${fragment_files[@]}"
}

configure() {
	local want
	want=$(config_id | sha256sum | cut -d' ' -f1)
	if [ -f "$BUILD/.config" ] && [ "$(cat "$BUILD/.tux-config-id" 2>/dev/null)" = "$want" ]; then
		return
	fi
	say "configuring $flavor kernel: $base + ${fragments[*]} (in $BUILD)"
	mkdir -p "$BUILD"
	"${KMAKE[@]}" "$base" >/dev/null
	"$TUX_KSRC/scripts/kconfig/merge_config.sh" -m -O "$BUILD" "$BUILD/.config" \
		"${fragment_files[@]}" >"$BUILD/merge_config.log"
	"${KMAKE[@]}" olddefconfig >/dev/null
	# merge_config silently drops options whose dependencies are unmet:
	# check that every option the fragments ask for survived.
	local line lost=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) grep -q "^${line%=n}=" "$BUILD/.config" && lost+=("$line") ;;
		CONFIG_*=*) grep -qxF "$line" "$BUILD/.config" || lost+=("$line") ;;
		esac
	done < <(cat "${fragment_files[@]}")
	if [ ${#lost[@]} -gt 0 ]; then
		grep -q '^CONFIG_RUST=y' "$BUILD/.config" ||
			say "CONFIG_RUST is off: check 'make -C $TUX_KSRC O=$BUILD rustavailable'"
		die "the $flavor configuration lost: ${lost[*]} (unmet dependencies; see $BUILD/merge_config.log)"
	fi
	printf '%s\n' "$want" >"$BUILD/.tux-config-id"
}

check_rust() {
	"${KMAKE[@]}" rustavailable >/dev/null 2>"$BUILD/rustavailable.log" || {
		cat "$BUILD/rustavailable.log" >&2
		die "the kernel cannot use this Rust toolchain: run 'make deps'"
	}
}

build() {
	local t0=$SECONDS
	say "building $flavor bzImage (-j$JOBS; a clean build takes ~5 min, a rebuild seconds)"
	"${KMAKE[@]}" bzImage
	ln -sf "$BUILD/arch/x86/boot/bzImage" "$TUX_CACHE/bzImage-$flavor"
	# Loadable modules (the in-kernel handler sample), for the guest.
	rm -rf "$TUX_CACHE/modules-$flavor" && mkdir -p "$TUX_CACHE/modules-$flavor"
	if grep -q '^CONFIG_MODULES=y' "$BUILD/.config"; then
		"${KMAKE[@]}" modules
		find "$BUILD" -name '*.ko' -exec cp {} "$TUX_CACHE/modules-$flavor/" \;
	fi
	say "bzImage ready in $((SECONDS - t0)) s: $BUILD/arch/x86/boot/bzImage"
}

"$TUX_ROOT/tools/kernel-tree.sh"
mkdir -p "$BUILD"
check_rust
configure
[ "$action" = config ] && { say "configured: $BUILD/.config"; exit 0; }
build
