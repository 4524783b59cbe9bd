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
reject listen '[::1'
reject listen '::1]'
reject listen '[127.0.0.1]'
reject listen '[::1]:80'
reject listen 'fe80::1%eth0'
reject listen localhost
reject listen ''
# Valid writes are accepted and read back.
echo 8080 >$S/port && [ "$(cat $S/port)" = 8080 ] || { echo "port 8080 not accepted"; fail=1; }
echo 80 >$S/port
[ "$(cat $S/listen)" = :: ] || { echo "default listen is '$(cat $S/listen)', not ::"; fail=1; }
accept() { # accept VALUE READ_BACK
	echo "$1" >$S/listen && [ "$(cat $S/listen)" = "$2" ] || { echo "listen '$1' not accepted as '$2'"; fail=1; }
}
accept 127.0.0.1 127.0.0.1
accept 0.0.0.0 0.0.0.0
accept '[::1]' ::1
accept 2001:DB8:0:0::1 2001:db8::1
accept '[::]' ::
accept :: ::
dmesg | grep -q "tux: listen: 'localhost' is not an IPv4 or IPv6 address" ||
	{ echo "a bad listen value is not explained in dmesg"; fail=1; }
[ $fail = 0 ] || { echo "sysctl validation failed (see above)"; exit 1; }
