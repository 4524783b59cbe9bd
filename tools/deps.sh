#!/usr/bin/env bash
# make deps: install every host dependency of the tux build, idempotently.
#
#  1. Debian packages from the machine's own suites (toolchain, QEMU, guest
#     userland and the benchmark peers).
#  2. The pinned kernel source and Rust library sources from Debian's
#     trixie-backports suite, fetched through a private apt state under
#     $TUX_CACHE (the machine's apt configuration is never changed). The
#     mirror URI is read from the machine's own apt sources. Every download
#     is checked against tools/pins.sha256.
#  3. passt, built from Debian trixie's source package (see install_passt).
#  4. bindgen-cli and cargo-fuzz (host fuzzing, with the nightly toolchain),
#     built with cargo into $TUX_CACHE.
#
# A second run with everything in place finishes in about a second.
set -euo pipefail
. "$(dirname "$0")/common.sh"

DEB_PACKAGES=(
	build-essential flex bison bc libelf-dev libssl-dev cpio kmod xz-utils
	rsync python3 curl openssl git
	clang-19 lld-19 llvm-19 libclang-19-dev
	qemu-system-x86 busybox-static patch
	nginx lighttpd wrk
)

missing_debs() {
	local p st
	for p in "${DEB_PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || printf '%s\n' "$p"
	done
}

install_debs() {
	local missing
	missing=$(missing_debs)
	if [ -z "$missing" ]; then
		say "Debian packages: all present"
		return
	fi
	say "Debian packages: installing $(echo "$missing" | tr '\n' ' ')"
	command -v apt-get >/dev/null || die "apt-get not found: tux builds on Debian 12 or later"
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	# Installing nginx/lighttpd must not start them on the host: they are
	# only copied into the guest. policy-rc.d is honoured by invoke-rc.d.
	local policy=/usr/sbin/policy-rc.d own_policy=
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
		$sudo chmod 755 $policy
		own_policy=1
	fi
	local rc=0
	$sudo apt-get update -qq || rc=$?
	if [ $rc = 0 ]; then
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null || rc=$?
	fi
	[ -n "$own_policy" ] && $sudo rm -f $policy
	[ $rc = 0 ] || die "apt-get failed (exit $rc) installing: $missing"
}

# Print the first http(s) URI of the machine's apt sources that serves the
# main Debian archive (not the security archive).
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" |
			grep -v -- '-security' | grep -E '/debian/?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' "$f" |
			grep -v -- '-security' | grep -E '/debian/?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	return 1
}

APT_OPTS=()
setup_backports_apt() {
	local mirror
	mirror=$(debian_mirror) || die "no Debian mirror found in /etc/apt/sources.list{,.d}; add one (any mirror of the Debian archive) and re-run"
	mkdir -p "$TUX_APT/lists/partial" "$TUX_APT/archives/partial"
	cat >"$TUX_APT/sources.list" <<-EOF
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $BACKPORTS_SUITE main
	EOF
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$TUX_APT/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$TUX_APT/lists"
		-o "Dir::Cache::Archives=$TUX_APT/archives"
		-o "Dir::State::Status=/var/lib/dpkg/status"
		-o "APT::Architecture=amd64"
		-o "APT::Sandbox::User=root"
	)
	say "apt: $BACKPORTS_SUITE from the machine's mirror ($mirror)"
	apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update of $BACKPORTS_SUITE failed"
}

# deb_file PKG VERSION: the file name apt gives a downloaded package.
deb_file() {
	local ver=${2//:/%3a}
	ls "$TUX_DL/${1}_${ver}_"*.deb 2>/dev/null | head -n1
}

verify_sum() {
	local file=$1 name want got
	name=$(basename "$file")
	want=$(awk -v n="$name" '$2 == n { print $1 }' "$TUX_ROOT/tools/pins.sha256")
	got=$(sha256sum "$file" | cut -d' ' -f1)
	if [ -z "$want" ]; then
		die "$name has no recorded sha256 in tools/pins.sha256 (got $got). If you changed a pin on purpose, add: '$got  $name'"
	fi
	[ "$want" = "$got" ] || die "sha256 mismatch for $name: expected $want, got $got"
}

fetch_pinned() {
	local pkg=$1 ver=$2 f
	f=$(deb_file "$pkg" "$ver")
	if [ -z "$f" ]; then
		[ ${#APT_OPTS[@]} -gt 0 ] || setup_backports_apt
		say "downloading $pkg=$ver"
		mkdir -p "$TUX_DL"
		if ! (cd "$TUX_DL" && apt-get "${APT_OPTS[@]}" download -qq "$pkg=$ver" >/dev/null); then
			local avail
			avail=$(apt-get "${APT_OPTS[@]}" -qq policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
			die "$pkg=$ver is no longer in $BACKPORTS_SUITE (it now offers: ${avail:-nothing}).
    To move the pin: set the version in tools/pins.env, run 'make deps', and
    record the sha256 it prints in tools/pins.sha256 after checking the change log."
		fi
		f=$(deb_file "$pkg" "$ver")
		[ -n "$f" ] || die "apt-get download of $pkg=$ver produced no file"
	fi
	verify_sum "$f"
	printf '%s\n' "$f"
}

install_sources() {
	local f
	f=$(fetch_pinned "$RUST_SRC_PKG" "$RUST_SRC_PKG_VERSION")
	if [ ! -d "$RUST_LIB_SRC/core" ]; then
		say "unpacking Rust library sources"
		rm -rf "$TUX_RUST_SRC.tmp"
		dpkg-deb -x "$f" "$TUX_RUST_SRC.tmp"
		[ -d "$TUX_RUST_SRC.tmp/usr/src/rustc-$RUST_TOOLCHAIN/library/core" ] ||
			die "$f does not hold library sources for rustc $RUST_TOOLCHAIN"
		rm -rf "$TUX_RUST_SRC" && mv "$TUX_RUST_SRC.tmp" "$TUX_RUST_SRC"
	fi
	say "Rust library sources: $RUST_LIB_SRC"
	f=$(fetch_pinned "$KERNEL_PKG" "$KERNEL_PKG_VERSION")
	say "kernel source package: $f"
}

# cargo_install CRATE VERSION ROOT BIN: a pinned crate's binary, built with
# cargo into ROOT once.
cargo_install() {
	local crate=$1 version=$2 root=$3 bin=$4
	if "$root/bin/$bin" --version 2>/dev/null | grep -q " $version\$"; then
		say "$crate $version: present"
		return
	fi
	say "building $crate $version (about a minute)"
	cargo install -q --locked "$crate" --version "$version" --root "$root" ||
		die "cargo install $crate $version failed"
}

# passt (tools/tuxvm.py's NET=passt) from the pinned source of Debian
# trixie, built into $TUX_PASST. Debian 12's own passt (0.0~git20230309)
# drops the bytes of a frame length that QEMU's socket holds only in part,
# and from then on reads garbage: the guest's NIC stays dead (seen in CI on
# a loaded host). trixie's binary package needs a newer C library than
# Debian 12 has; the program itself builds with any C11 compiler in seconds.
install_passt() {
	if [ -x "$TUX_PASST/passt" ]; then
		say "passt $PASST_VERSION-$PASST_DEBIAN: present"
		return
	fi
	local mirror orig deb f tmp src
	orig="passt_${PASST_VERSION}.orig.tar.xz"
	deb="passt_${PASST_VERSION}-${PASST_DEBIAN}.debian.tar.xz"
	mkdir -p "$TUX_DL"
	for f in "$orig" "$deb"; do
		if [ ! -e "$TUX_DL/$f" ]; then
			mirror=$(debian_mirror) || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
			say "downloading $f"
			curl -sSf -o "$TUX_DL/$f.part" "$mirror/pool/main/p/passt/$f" ||
				die "downloading $f failed: is passt $PASST_VERSION-$PASST_DEBIAN still in Debian? Move the pin in tools/pins.env and tools/pins.sha256"
			mv "$TUX_DL/$f.part" "$TUX_DL/$f"
		fi
		verify_sum "$TUX_DL/$f"
	done
	say "building passt $PASST_VERSION-$PASST_DEBIAN (under a minute)"
	tmp=$(mktemp -d "$TUX_CACHE/passt-build.XXXXXX")
	tar -xf "$TUX_DL/$orig" -C "$tmp"
	src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
	tar -xf "$TUX_DL/$deb" -C "$src"
	while read -r f; do
		case $f in '' | '#'*) continue ;; esac
		patch -s -p1 -d "$src" <"$src/debian/patches/$f" || die "passt: Debian patch $f does not apply"
	done <"$src/debian/patches/series"
	make -s -C "$src" VERSION="$PASST_VERSION-$PASST_DEBIAN" passt passt.avx2 >"$tmp/build.log" 2>&1 ||
		die "building passt failed: $tmp/build.log"
	rm -rf "$TUX_PASST.tmp" && mkdir -p "$TUX_PASST.tmp"
	cp "$src/passt" "$src/passt.avx2" "$TUX_PASST.tmp/"
	rm -rf "$TUX_PASST" && mv "$TUX_PASST.tmp" "$TUX_PASST"
	rm -rf "$tmp"
	say "passt: $TUX_PASST/passt"
}

install_bindgen() {
	cargo_install bindgen-cli "$BINDGEN_VERSION" "$TUX_BINDGEN" bindgen
}

install_cargo_fuzz() {
	if ! cargo +"$FUZZ_TOOLCHAIN" --version >/dev/null 2>&1; then
		die "rustup toolchain '$FUZZ_TOOLCHAIN' is missing (host fuzzing only): 'rustup toolchain install $FUZZ_TOOLCHAIN'"
	fi
	cargo_install cargo-fuzz "$CARGO_FUZZ_VERSION" "$TUX_CARGO_FUZZ" cargo-fuzz
}

check_rust() {
	rustc --version >/dev/null 2>&1 ||
		die "rustup toolchain $RUST_TOOLCHAIN is missing: 'rustup toolchain install $RUST_TOOLCHAIN --component rustfmt,clippy'"
	local v
	v=$(rustc --version | awk '{ print $2 }')
	[ "$v" = "$RUST_TOOLCHAIN" ] || die "rustc is $v, expected $RUST_TOOLCHAIN"
}

mkdir -p "$TUX_CACHE"
check_rust
install_debs
install_sources
install_passt
install_bindgen
install_cargo_fuzz
say "dependencies ready (cache: $TUX_CACHE)"
