#!/usr/bin/env bash
# make series: export the whole of TUX as one self-contained patch series
# against the pinned kernel, for `git am` onto a tree of one's own.
#
# usage: tools/series.sh [OUTDIR]   (default $TUX_CACHE/series)
#
# The project keeps the kernel side in three places: linux-patches/ (C,
# Kconfig, the Rust abstractions), rust-tux/ (the subsystem) and
# syscall-abi/ (the tux(2) ABI); tools/kernel-tree.sh links the last two
# into the tree. The export turns all of it into patches:
#
#   0001..00NN  linux-patches/, as they are, except that the two lines
#               hooking net/tux/ into net/Kconfig and net/Makefile wait
#               for the last patch: until the crate root exists,
#               CONFIG_TUX cannot be chosen and every prefix builds;
#   then        the tux(2) ABI (uapi header and its Rust definition), the
#               sans-IO HTTP core, the server, tux(2) and user modules, the
#               benchmark ceiling, and last the crate root with the hook.
#
# Every file of rust-tux/ that the kernel builds must belong to one of
# those patches (FILES below): a new file fails the export until it is
# placed. The commits are composed with git plumbing in a private index of
# $TUX_KSRC's repository (no checkout), with fixed dates, so the same
# sources always give the same series. The output is generated, never
# edited by hand; a cover letter says what TUX is and how to test it.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=${1:-$TUX_CACHE/series}
# The tree's repository: unpacked and tagged `base` by make deps/tree.
git -C "$TUX_KSRC" rev-parse -q --verify refs/tags/base >/dev/null ||
	"$TUX_ROOT/tools/kernel-tree.sh" >/dev/null

# The subsystem's patches: "subject|body|files" (paths under rust-tux/ but
# abi.rs from syscall-abi/; directories take every .rs and .md in them).
PATCHES=(
	"net: tux: add the tux(2) ABI|The one definition of the tux(2) ABI, shared by the kernel and
userspace: the uapi header for C callers and net/tux/abi.rs, the same
layout in Rust with compile-time checks of every size and offset.|@abi"
	"net: tux: add the sans-IO HTTP/1.1 core|The HTTP logic of TUX, without I/O and without kernel dependencies:
the request parser, path resolution, the response planner (conditional
requests, ranges, gzip variants), response heads, the MIME table, dates
and the access-log line. The same source is built as a host crate,
where it is unit-, property- and fuzz-tested.|http"
	"net: tux: add the server|The in-kernel server on top of the HTTP core: the configuration
snapshot, the listener and its connections (non-blocking kernel TCP
sockets driven by socket callbacks), one server thread per CPU with a
lock-free ready list, the object cache that keeps paths and open files
coherent with the page cache, static responses from the page cache, the
hand-off of what TUX does not serve, HTTPS through the TLS handshake
upcall and kTLS (conn/tls.rs), counters and the access-log ring, all of
it once per network namespace (netns.rs).|cache.rs clock.rs config.rs conn.rs conn/tls.rs conns.rs engine.rs engine handoff.rs log.rs netns.rs serve.rs server.rs stats.rs"
	"net: tux: add tux(2) and user modules|The tux(2) system call's actions, the registry of userspace modules,
the connection side of a request owned by a module (conn/user.rs) and
in-kernel handlers with their Rust API.|syscall.rs user.rs conn/user.rs khandler.rs"
	"net: tux: add the benchmark ceiling module|CONFIG_TUX_BENCH_CEILING: the cheapest responder the benchmarks compare
TUX with.|tux_ceiling.rs"
	"net: tux: add the crate root and build the subsystem|tux.rs, the crate root: the module, its start-up, KUnit suites. With
it the subsystem is complete, and net/Kconfig and net/Makefile take in
net/tux/ (the hook that the first patch of the series leaves to this
one, so that every patch builds).|tux.rs @hook"
)
HOOK_FILES=(net/Kconfig net/Makefile)

# The files under rust-tux/ the kernel builds, as kernel-tree.sh links them.
kernel_files() {
	local name
	for name in $(subsystem_entries); do
		if [ -d "$TUX_ROOT/rust-tux/$name" ]; then
			(cd "$TUX_ROOT/rust-tux" && find "$name" -type f \( -name '*.rs' -o -name '*.md' \) | sort)
		else
			echo "$name"
		fi
	done
}

# Fixed identity and dates: the newest commit of the project's kernel sources.
stamp=$(git -C "$TUX_ROOT" log -1 --format=%cI -- rust-tux syscall-abi linux-patches)
export GIT_DIR=$TUX_KSRC/.git
index=$(mktemp "${TMPDIR:-/tmp}/tux-series-index.XXXXXX")
full=$(mktemp "${TMPDIR:-/tmp}/tux-series-full.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/tux-series.XXXXXX")
trap 'rm -rf "$index" "$full" "$work"' EXIT
cd "$TUX_KSRC"
export GIT_COMMITTER_NAME="The tux developers" GIT_COMMITTER_EMAIL=tux@localhost GIT_COMMITTER_DATE=$stamp

# commit PARENT MSGFILE [AUTHOR EMAIL DATE]: the index as a commit.
commit() {
	local tree
	tree=$(GIT_INDEX_FILE=$index git write-tree)
	GIT_AUTHOR_NAME=${3:-$GIT_COMMITTER_NAME} GIT_AUTHOR_EMAIL=${4:-$GIT_COMMITTER_EMAIL} \
		GIT_AUTHOR_DATE=${5:-$stamp} git commit-tree "$tree" -p "$1" -F "$2"
}

base=$(git rev-parse 'refs/tags/base^{commit}')
GIT_INDEX_FILE=$index git read-tree "$base"
GIT_INDEX_FILE=$full git read-tree "$base"
head=$base n=0
for p in "$TUX_ROOT"/linux-patches/*.patch; do
	git mailinfo "$work/msg" "$work/diff" <"$p" >"$work/info"
	GIT_INDEX_FILE=$full git apply --cached --whitespace=nowarn "$work/diff" ||
		die "$(basename "$p") does not apply to Linux $KERNEL_VERSION"
	excl=()
	for f in "${HOOK_FILES[@]}"; do excl+=(--exclude="$f"); done
	GIT_INDEX_FILE=$index git apply --cached --whitespace=nowarn "${excl[@]}" "$work/diff"
	note=
	grep -qE "^diff --git a/($(IFS='|'; echo "${HOOK_FILES[*]}")) " "$work/diff" &&
		note="[In this export, the hook-up in net/Kconfig and net/Makefile comes with the
crate root, in the last patch, so that every patch builds.]"
	{
		sed -n 's/^Subject: //p' "$work/info"
		echo
		# The note goes before the trailers (Signed-off-by: ...).
		awk -v note="$note" 'note != "" && !done && /^[A-Za-z-]+: / { print note; print ""; done = 1 } { print }
			END { if (note != "" && !done) { print ""; print note } }' "$work/msg"
	} >"$work/commit-msg"
	head=$(commit "$head" "$work/commit-msg" "$(sed -n 's/^Author: //p' "$work/info")" \
		"$(sed -n 's/^Email: //p' "$work/info")" "$(sed -n 's/^Date: //p' "$work/info")")
	n=$((n + 1))
done

# add_file SRC DEST: a project file as a file of the tree.
add_file() {
	local blob
	blob=$(git hash-object -w "$1")
	GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$blob,$2"
}
placed=$(mktemp "$work/placed.XXXXXX")
for entry in "${PATCHES[@]}"; do
	subject=${entry%%|*}
	rest=${entry#*|}
	body=${rest%|*}
	files=${rest##*|}
	for f in $files; do
		case $f in
		@abi)
			add_file "$TUX_ROOT/syscall-abi/abi.rs" net/tux/abi.rs
			add_file "$TUX_ROOT/syscall-abi/include/uapi/linux/tux.h" include/uapi/linux/tux.h
			;;
		@hook)
			for h in "${HOOK_FILES[@]}"; do
				blob=$(GIT_INDEX_FILE=$full git rev-parse ":$h")
				GIT_INDEX_FILE=$index git update-index --cacheinfo "100644,$blob,$h"
			done
			;;
		*)
			[ -e "$TUX_ROOT/rust-tux/$f" ] || die "series: rust-tux/$f is gone: update PATCHES in $0"
			while read -r rel; do
				add_file "$TUX_ROOT/rust-tux/$rel" "net/tux/$rel"
				echo "$rel" >>"$placed"
			done < <(kernel_files | grep -xE "$(printf '%s' "$f" | sed 's/\./\\./g')(/.*)?")
			;;
		esac
	done
	printf '%s\n\n%s\n\nSigned-off-by: %s <%s>\n' "$subject" "$body" \
		"$GIT_COMMITTER_NAME" "$GIT_COMMITTER_EMAIL" >"$work/commit-msg"
	head=$(commit "$head" "$work/commit-msg")
	n=$((n + 1))
done
unplaced=$(kernel_files | grep -vxFf "$placed" || true)
[ -z "$unplaced" ] || die "series: not in any patch of $0: $(echo $unplaced)"
# The export must give the tree the links give: every file the same.
[ -z "$(GIT_INDEX_FILE=$index git diff --cached --name-only "$(GIT_INDEX_FILE=$full git write-tree)" -- \
	. ':!net/tux/*' ':!include/uapi/linux/tux.h')" ] || die "series: the export differs from linux-patches/ outside net/tux"

rm -rf "$out" && mkdir -p "$out"
git format-patch -q --zero-commit --no-signature --cover-letter -o "$out" "$base..$head"
python3 - "$out"/0000-cover-letter.patch "$KERNEL_VERSION" "$KERNEL_PKG $KERNEL_PKG_VERSION" <<'EOF'
import sys
path, version, pkg = sys.argv[1:]
text = open(path).read()
blurb = f"""TUX is an in-kernel HTTP/1.1 server, rebuilt in Rust: static files go from
the page cache to the network without a copy by the server, a tux(2) system
call lets userspace modules answer requests under URL prefixes, CGI is run
by a userspace daemon, and whatever TUX does not serve is handed to an
unmodified userspace server. Classic TUX (Red Hat, 2000-2003) was dropped
because a memory-safety bug in a kernel HTTP daemon means root; this one
keeps its HTTP logic in a no_std, sans-IO Rust core that is unit-,
property- and fuzz-tested outside the kernel and compiled unchanged into it.

The series applies to Linux {version} (Debian's {pkg}).
The first patches add CONFIG_TUX's C side (sysctls, /proc/net/tux, the
tux(2) entry, hand-off) and the Rust abstractions the server needs
(kernel TCP sockets with callbacks, confined path lookups, reading files at
an offset, kernel threads bound to a CPU); then come the tux(2) ABI, the
HTTP core, the server, tux(2) and user modules, and last the crate root,
which hooks net/tux/ into the build: every prefix of the series builds.

To try it (a Rust toolchain the kernel accepts: make rustavailable):

  git am *.patch
  make defconfig
  scripts/config -e NET -e INET -e RUST -e TUX -e PROC_FS -e SYSCTL
  make olddefconfig bzImage
  # boot with tux.docroot=/srv/www tux.port=80 and an initramfs holding
  # /srv/www; TUX says "tux: serving /srv/www on 0.0.0.0:80"; GET / on port 80

The tux project (userspace library, daemon, tests and benchmarks) builds,
boots and tests this series in QEMU; its make test applies this export to a
clean tree, builds it and serves a request from it.
"""
text = text.replace("*** SUBJECT HERE ***", f"TUX: a memory-safe in-kernel HTTP server for Linux {version}")
text = text.replace("*** BLURB HERE ***", blurb.rstrip("\n"))
open(path, "w").write(text)
EOF
say "series: $n patches and a cover letter in $out (base: Linux $KERNEL_VERSION)"
