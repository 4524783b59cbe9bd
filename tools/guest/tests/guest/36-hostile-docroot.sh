#!/bin/sh
# tux-test-timeout: 300
# Hostile document-root contents and files that change under a transfer.
# Each case states its expected answer; the server must answer within 10 s
# (never block on a node) and keep serving afterwards.
#
#   device nodes (/dev/zero, /dev/null), a FIFO, a socket   403 or 404
#   hard link to a mode-0600 file outside the docroot       403
#   hard link to a world-readable file outside the docroot  200 (it *is* that
#        inode: a link the administrator made in the docroot is content)
#   file truncated while it is being sent     the connection closes before
#        Content-Length bytes (never stale or foreign bytes, never a hang)
#   file replaced (rename) while being sent   the original body, complete
#   connection flood beyond max_connect       503s, then normal service
D=/srv/www/hostile
mkdir -p $D && chmod 755 $D
fail() { echo "$*"; exit 1; }
# raw PATH: the raw response (head and body) of one request, 10 s at most.
raw() {
	printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" |
		timeout 10 nc 127.0.0.1 80
}
status() { raw "$1" | head -n 1 | cut -d' ' -f2; }
expect() { # expect PATH STATUS...
	p=$1
	shift
	s=$(status "$p")
	for want in "$@"; do [ "$s" = "$want" ] && { echo "$p: $s"; return 0; }; done
	fail "$p: status '${s:-none (timeout or close)}', want $*"
}
alive() { [ "$(status /index.html)" = 200 ] || fail "not serving /index.html after: $1"; }

# --- nodes that are not regular files ---
mknod $D/zero c 1 5 && mknod $D/null c 1 3 && chmod 666 $D/zero $D/null || fail "mknod failed"
mkfifo -m 666 $D/fifo || fail "mkfifo failed"
mksock $D/sock && chmod 777 $D/sock || fail "mksock failed"
for n in zero null fifo sock; do
	expect /hostile/$n 403 404
done
alive "device nodes, FIFO and socket"

# --- hard links out of the docroot ---
echo TOPSECRET >/etc/tux-test/secret && chmod 600 /etc/tux-test/secret
echo public-outside >/etc/tux-test/public && chmod 644 /etc/tux-test/public
ln /etc/tux-test/secret $D/hardlink-private && ln /etc/tux-test/public $D/hardlink-public ||
	fail "ln failed (docroot and /etc on different filesystems?)"
expect /hostile/hardlink-private 403
raw /hostile/hardlink-private | grep -q TOPSECRET && fail "the private file's content was sent"
expect /hostile/hardlink-public 200
raw /hostile/hardlink-public | grep -q public-outside || fail "hardlink-public: body differs"

# --- a file truncated while it is being sent ---
# The reader sleeps first, so the server blocks on a full socket with most of
# the 8 MiB still to send; then the file shrinks to 4 KiB.
size=$((8 * 1048576))
dd if=/dev/zero of=$D/trunc.bin bs=1048576 count=8 2>/dev/null && chmod 644 $D/trunc.bin
(printf 'GET /hostile/trunc.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 60) |
	timeout 60 nc 127.0.0.1 80 | (sleep 3; cat >/tmp/trunc.out) &
reader=$!
sleep 1
truncate -s 4096 $D/trunc.bin
wait $reader
got=$(wc -c </tmp/trunc.out)
head -n 1 /tmp/trunc.out | grep -q '^HTTP/1.1 200' || fail "truncate: no 200 head: $(head -c 80 /tmp/trunc.out)"
[ "$got" -gt 0 ] && [ "$got" -lt "$size" ] ||
	fail "truncate: received $got bytes, want a short body (< $size)"
# The head is text and the file is all zeros: every non-zero byte received
# must belong to the head (nothing stale or foreign after it).
head_len=$(head -c 1024 /tmp/trunc.out | tr -d '\000' | wc -c)
nonzero=$(tr -d '\000' </tmp/trunc.out | wc -c)
[ "$nonzero" = "$head_len" ] || fail "truncate: $((nonzero - head_len)) non-zero bytes in the body"
echo "truncated while sending: connection closed after $got of $size+ bytes"
alive "truncation"

# --- a file replaced (rename over it) while it is being sent ---
dd if=/dev/zero of=$D/replace.bin bs=1048576 count=8 2>/dev/null && chmod 644 $D/replace.bin
(printf 'GET /hostile/replace.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 60) |
	timeout 60 nc 127.0.0.1 80 | (sleep 3; cat >/tmp/replace.out) &
reader=$!
sleep 1
echo new-content >$D/.replace.tmp && chmod 644 $D/.replace.tmp && mv $D/.replace.tmp $D/replace.bin
wait $reader
head_len=$(head -c 1024 /tmp/replace.out | tr -d '\000' | wc -c)
got=$(wc -c </tmp/replace.out)
[ "$((got - head_len))" = "$size" ] || fail "replace: body of $((got - head_len)) bytes, want the original $size"
[ "$(status /hostile/replace.bin)" = 200 ] && raw /hostile/replace.bin | grep -q new-content ||
	fail "replace: the next request does not get the new file"
echo "replaced while sending: original $size bytes completed, then the new file"

# --- a connection flood beyond max_connect ---
S=/proc/sys/net/tux
old=$(cat $S/max_connect)
refused0=$(awk '$1 == "connections_refused" { print $2 }' /proc/net/tux/stats)
# The server takes its settings when it (re)starts: running=1 restarts it.
restore() { echo "$old" >$S/max_connect && echo 1 >$S/running; }
trap restore EXIT
echo 32 >$S/max_connect && echo 1 >$S/running || fail "cannot set max_connect"
out=$(wrk -t 2 -c 300 -d 3s --timeout 10s http://127.0.0.1:80/index.html 2>&1)
echo "$out" | grep -E 'requests in|Non-2xx|Socket'
refused=$(awk '$1 == "connections_refused" { print $2 }' /proc/net/tux/stats)
[ "$refused" -gt "$refused0" ] || fail "flood of 300 connections with max_connect 32: none refused"
restore
alive "the connection flood"
echo "flood: $((refused - refused0)) connections refused with 503"
