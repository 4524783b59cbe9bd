#!/usr/bin/env bash
# Build the guest initramfs: busybox-static, the guest init and test runner,
# and a document root.
#
# usage: mkinitramfs.sh OUTPUT.cpio.gz [DOCROOT]
#
# DOCROOT (a host directory) is copied to /srv/www in the guest; without it
# the demo site in tools/guest/www is used.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=${1:?usage: mkinitramfs.sh OUTPUT.cpio.gz [DOCROOT]}
docroot=${2:-$TUX_ROOT/tools/guest/www}
[ -d "$docroot" ] || die "DOCROOT '$docroot' is not a directory"
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list >/dev/null 2>&1 || die "busybox-static is not installed: run 'make deps'"

stage=$(mktemp -d "${TMPDIR:-/tmp}/tux-initramfs.XXXXXX")
# mktemp makes it 0700: the guest root must be searchable by unprivileged
# users (CGI programs run as nobody).
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root,srv,tests}
cp "$busybox" "$stage/bin/busybox"
# One symlink per applet, but never "busybox" itself (it would replace the
# binary with a link to itself).
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] && continue
	[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
# copy_libs PROG: the shared libraries PROG needs, at their host paths.
copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
# Host programs the guest tests use, with the shared libraries they need.
GUEST_PROGRAMS=${GUEST_PROGRAMS:-/usr/bin/wrk}
for prog in $GUEST_PROGRAMS; do
	[ -x "$prog" ] || die "$prog is missing: run 'make deps'"
	mkdir -p "$stage$(dirname "$prog")"
	cp -L "$prog" "$stage$prog"
	copy_libs "$prog"
done
# The project's own userspace (the tux daemon, libtux examples, test
# programs), built by the caller: copied to /usr/bin with their libraries.
for tool in ${GUEST_TOOLS:-}; do
	[ -x "$tool" ] || die "$tool is missing (GUEST_TOOLS): build it first"
	# Debug builds: keep the symbols, drop the DWARF (most of their size).
	objcopy --strip-debug "$tool" "$stage/usr/bin/$(basename "$tool")"
	copy_libs "$tool"
done
# make run: the daemon's configuration (RUN_CONFIG, default
# tools/guest/etc/tux.toml), the CGI examples, and the user's own programs
# (RUN_MODULES, make run MODULES=...), which the guest starts at boot.
if [ "${TUX_GUEST_RUN:-0}" = 1 ]; then
	config=${RUN_CONFIG:-$TUX_ROOT/tools/guest/etc/tux.toml}
	[ -f "$config" ] || die "TUX_CONFIG '$config' is not a file"
	cp "$config" "$stage/etc/tux.toml"
	mkdir -p "$stage/srv/cgi-bin" "$stage/etc/tux"
	cp "$TUX_ROOT"/tools/guest/cgi-bin/* "$stage/srv/cgi-bin/"
	: >"$stage/etc/tux/autostart"
	for prog in ${RUN_MODULES:-}; do
		[ -f "$prog" ] && [ -x "$prog" ] || die "MODULES: '$prog' is not an executable file"
		name=$(basename "$prog")
		[ -e "$stage/usr/bin/$name" ] && die "MODULES: '$name' would replace the guest's own /usr/bin/$name: rename it"
		cp -L "$prog" "$stage/usr/bin/$name"
		copy_libs "$prog"
		echo "$name" >>"$stage/etc/tux/autostart"
	done
fi
# The HTTPS tests: their certificates (GUEST_TLS: a directory made by
# tools/test/tls-certs.sh) and the agent's configuration.
if [ -n "${GUEST_TLS:-}" ]; then
	mkdir -p "$stage/etc/tux-test/tls"
	cp "$GUEST_TLS"/*.crt "$GUEST_TLS"/*.key "$stage/etc/tux-test/tls/"
	chmod 600 "$stage"/etc/tux-test/tls/*.key
	cp "$TUX_ROOT/tools/guest/etc/tux-tls-test.toml" "$stage/etc/tux-test/tls/tux.toml"
fi
# Kernel modules of the booted kernel (GUEST_MODULES: a directory of .ko).
if [ -n "${GUEST_MODULES:-}" ]; then
	mkdir -p "$stage/lib/modules"
	cp "$GUEST_MODULES"/*.ko "$stage/lib/modules/" 2>/dev/null || true
fi
cp "$TUX_ROOT/tools/guest/init" "$stage/init"
mkdir -p "$stage/etc/tux-test" "$stage/var/log/nginx" "$stage/var/lib/nginx"
cp "$TUX_ROOT/tools/test/nginx-handoff.conf" "$stage/etc/tux-test/nginx.conf"
cp "$TUX_ROOT/tools/guest/run-guest-tests" "$stage/tests/"
cp -r "$TUX_ROOT/tools/guest/tests/guest" "$TUX_ROOT/tools/guest/tests/final" "$stage/tests/"
# make bench: the peers, their configuration and the guest's bench script.
if [ "${TUX_GUEST_BENCH:-0}" = 1 ]; then
	mkdir -p "$stage/bench" "$stage/etc/nginx" "$stage/usr/lib"
	cp "$TUX_ROOT"/tools/bench/guest-bench.sh "$TUX_ROOT"/tools/bench/*.conf "$TUX_ROOT"/tools/bench/*.toml "$stage/bench/"
	cp /etc/nginx/mime.types "$stage/etc/nginx/"
	cp -r /usr/lib/lighttpd "$stage/usr/lib/"
fi
# The debug kernel's checks (kmemleak) run with the final tests.
[ "${TUX_GUEST_DEBUG:-0}" = 1 ] && cp "$TUX_ROOT"/tools/guest/tests/debug/* "$stage/tests/final/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
# Keep ownership and modes of the docroot: TUX serves only world-readable
# regular files, and tests rely on other modes surviving the copy.
cp -a "$docroot" "$stage/srv/www"
(cd "$stage" && find . -print0 | cpio --null -o -H newc -R +0:+0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
say "initramfs: $out ($(du -h "$out" | cut -f1), docroot $docroot)"
