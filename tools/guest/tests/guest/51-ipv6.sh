#!/bin/sh
# IPv6. The default listener is [::] and dual-stack: one socket serves ::1 and
# 127.0.0.1, and IPv4 clients are logged as IPv4 (not ::ffff:127.0.0.1).
# listen=::1 serves IPv6 only, listen=0.0.0.0 IPv4 only. The access log
# writes IPv6 clients in RFC 5952 text.
S=/proc/sys/net/tux
fail=0
restore() { echo :: >$S/listen; echo 0 >$S/logging; echo 1 >$S/running; }
trap restore EXIT
get() { timeout 10 wget -q -O /tmp/v6.got "$1" && cmp -s /tmp/v6.got /srv/www/index.html; }
refused() { ! timeout 10 wget -q -O /dev/null "$1" 2>/dev/null; }

[ "$(cat $S/listen)" = :: ] || { echo "listen is '$(cat $S/listen)', not ::"; exit 1; }
ip -6 addr show dev lo | grep -q 'inet6 ::1/128' || { ip -6 addr; echo "lo has no ::1"; exit 1; }
dmesg | grep -q 'tux: serving /srv/www on \[::\]:80' || { dmesg | grep 'tux:' | tail -n 3; echo "no start-up line for [::]:80"; fail=1; }

echo 1 >$S/logging && echo 1 >$S/running || { echo "cannot restart with logging"; exit 1; }
cat /proc/net/tux/log >/dev/null
get 'http://[::1]/' || { echo "GET http://[::1]/ failed or differs"; fail=1; }
get 'http://127.0.0.1/' || { echo "GET http://127.0.0.1/ failed on the dual-stack listener"; fail=1; }
get 'http://[::ffff:127.0.0.1]/' || { echo "GET over an IPv4-mapped address failed"; fail=1; }
cat /proc/net/tux/log >/tmp/v6.log
cat /tmp/v6.log
grep -q '^::1 - - \[.*\] "GET / HTTP/1.1" 200 ' /tmp/v6.log || { echo "no access-log line from ::1"; fail=1; }
[ "$(grep -c '^127\.0\.0\.1 - - \[.*\] "GET / HTTP/1.1" 200 ' /tmp/v6.log)" = 2 ] ||
	{ echo "the IPv4 and IPv4-mapped clients are not both logged as 127.0.0.1"; fail=1; }
grep -q ffff /tmp/v6.log && { echo "an IPv4-mapped address reached the log"; fail=1; }

echo ::1 >$S/listen && echo 1 >$S/running || { echo "cannot listen on ::1"; exit 1; }
get 'http://[::1]/' || { echo "listen=::1: GET [::1] failed"; fail=1; }
refused 'http://127.0.0.1/' || { echo "listen=::1 still serves 127.0.0.1"; fail=1; }
echo 0.0.0.0 >$S/listen && echo 1 >$S/running || { echo "cannot listen on 0.0.0.0"; exit 1; }
get 'http://127.0.0.1/' || { echo "listen=0.0.0.0: GET 127.0.0.1 failed"; fail=1; }
refused 'http://[::1]/' || { echo "listen=0.0.0.0 still serves [::1]"; fail=1; }
echo '[::]' >$S/listen && echo 1 >$S/running || { echo "cannot listen on [::]"; exit 1; }
get 'http://[::1]/' && get 'http://127.0.0.1/' || { echo "back on [::]: not serving both families"; fail=1; }
[ $fail = 0 ] || exit 1
echo "ipv6 ok"
