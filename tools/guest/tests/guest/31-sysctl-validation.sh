#!/bin/sh
# Invalid sysctl writes fail with an error and leave the value unchanged.
S=/proc/sys/net/tux
fail=0
reject() { # reject FILE VALUE
	before=$(cat "$S/$1")
	if echo "$2" >"$S/$1" 2>/dev/null; then
		echo "writing '$2' to $1 succeeded"; fail=1
	fi
	after=$(cat "$S/$1")
	[ "$before" = "$after" ] || { echo "$1 changed from '$before' to '$after'"; fail=1; }
}
reject port 0
reject port 65536
reject port -1
reject port abc
reject max_connect 0
reject keepalive_timeout 3601
reject header_timeout 0
reject max_header_len 100
reject virtual_server 2
reject compression -1
reject mode_allowed 10000
reject running 2
reject documentroot relative/path
reject listen 1.2.3
reject listen 300.1.1.1
# Valid writes are accepted and read back.
echo 8080 >$S/port && [ "$(cat $S/port)" = 8080 ] || { echo "port 8080 not accepted"; fail=1; }
echo 80 >$S/port
echo 127.0.0.1 >$S/listen && [ "$(cat $S/listen)" = 127.0.0.1 ] || { echo "listen 127.0.0.1 not accepted"; fail=1; }
echo 0.0.0.0 >$S/listen
[ $fail = 0 ] || { echo "sysctl validation failed (see above)"; exit 1; }
