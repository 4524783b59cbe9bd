#!/bin/sh
# tux-test-timeout: 3200
# Debug kernel only: at least SOAK_REQUESTS mixed requests: 1,000,000 in the
# campaign (make soak), 50,000 in make test (tools/test.sh says why)
# (soak.lua: every file size, ranges, conditionals, gzip, redirects,
# 403/404/414), mostly pipelined at 8 connections, with rounds of one
# request per write at 64 connections and of connection per request.
# The baseline is the slab usage after a warm-up of every round (5-8 s
# each), with the server stopped: what grows once (caches sized
# for the peak, the debug pools of kmemleak and debugobjects) is in it.
# After the soak and a stop, the slab usage must be back at that baseline
# (within 1 MiB: a leak of one byte per request is over it), and kmemleak
# (98-kmemleak.sh, next) must find nothing.
want=${SOAK_REQUESTS:-1000000}
S=/proc/sys/net/tux
v() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tux/stats; }
fail() { echo "$*"; exit 1; }
# note: also on the console, so that every run's log keeps the figures.
note() { echo "$*"; echo "soak: $*" >/dev/console; }
# settled slab: drop reclaimable caches, shrink every cache (which also
# empties KASAN's quarantine of freed objects), let RCU callbacks run.
slab_kib() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for c in /sys/kernel/slab/*/shrink; do echo 1 >"$c" 2>/dev/null; done
	sleep 3
	echo 3 >/proc/sys/vm/drop_caches
	for c in /sys/kernel/slab/*/shrink; do echo 1 >"$c" 2>/dev/null; done
	awk '/^Slab:/ { print $2 }' /proc/meminfo
}

# slab_objects: "CACHE BYTES" for every cache (objects times object size).
slab_objects() {
	awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo 2>/dev/null
}
# slab_growth BEFORE-FILE: the caches that grew most since BEFORE-FILE.
slab_growth() {
	slab_objects | awk 'NR == FNR { b[$1] = $2; next }
		{ d = $2 - b[$1]; if (d > 0) printf "%10d B  %s\n", d, $1 }' "$1" - | sort -rn | head -n 12
}
sockstat() { # FIELD: a count from the TCP line of /proc/net/sockstat
	awk -v f="$1" '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }' /proc/net/sockstat
}
# stop_and_settle: stop the server and wait for its connections to close.
# Closed connections wait in TIME_WAIT for 60 s, and orphans (closed with
# data or a FIN still in flight) up to tcp_fin_timeout: both are slab
# objects with buffers (a connection-per-request round just before the stop
# holds megabytes of them). Let them go before measuring.
stop_and_settle() {
	echo 0 >$S/running || fail "cannot stop the server"
	i=0
	while [ "$(v connections_open)" != 0 ]; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "connections_open not 0 after 10 s"
		sleep 0.1
	done
	# TIME_WAIT takes 60 s. Orphans go within seconds on loopback, except the
	# rare LAST_ACK socket that never goes (Documentation/tux/hardening.rst,
	# Open): once TIME_WAIT is over, a count unchanged for 15 s is final.
	i=0 stable=0 last=
	while [ $i -lt 150 ]; do
		o=$(sockstat orphan)
		if [ "$(sockstat tw)" = 0 ] || [ "${SOAK_NO_TIME_WAIT:-0}" = 1 ]; then
			[ "$o" -le "$orphans0" ] && break
			if [ "$o" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
			[ $stable -lt 15 ] || break
		fi
		last=$o
		i=$((i + 1))
		sleep 1
	done
	note "after waiting $i s for TIME_WAIT and orphaned sockets: $(grep '^TCP:' /proc/net/sockstat)"
	[ "$(sockstat orphan)" -le "$orphans0" ] || tcp_sockets
}
# Sockets other than listeners, with their states and timers (st 01
# established, 04 FIN_WAIT1, 08 CLOSE_WAIT, 09 LAST_ACK; tr 1 retransmit,
# 2 keepalive, 4 zero-window probe).
tcp_sockets() {
	note "sockets other than listeners:"
	awk 'FNR > 1 && $4 != "0A"' /proc/net/tcp /proc/net/tcp6 2>/dev/null | head -n 40 | tee /dev/console
}
# wrk ROUND-NAME ARGS...: one load round; socket errors fail the soak.
load() {
	name=$1
	shift
	out=$(wrk -t 2 --timeout 20s "$@" 2>&1)
	n=$(echo "$out" | awk '/requests in/ { print $1 }')
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "$out"; fail "round $round ($name): no requests completed"; }
	echo "$out" | grep -q 'Socket errors' && { echo "$out"; fail "round $round ($name): socket errors"; }
}
[ "$(cat $S/running)" = 0 ] || fail "the server should be stopped by 60-stop-releases"
# Orphans left by earlier tests (a host-phase client that stopped reading
# keeps its orphan probing a zero window) are not the soak's.
orphans0=$(sockstat orphan)
# SOAK_NO_TIME_WAIT=1 (make test's short soak): closed connections skip
# TIME_WAIT (tcp_max_tw_buckets 0), so the two settlings before the slab is
# measured need not wait its 60 s. TIME_WAIT sockets are the stack's, not
# TUX's; the campaign keeps them.
if [ "${SOAK_NO_TIME_WAIT:-0}" = 1 ]; then
	tw_buckets=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
	echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets || fail "cannot set tcp_max_tw_buckets"
	trap 'echo $tw_buckets >/proc/sys/net/ipv4/tcp_max_tw_buckets' EXIT
fi
note "before the soak: $(grep '^TCP:' /proc/net/sockstat)"
[ "$orphans0" = 0 ] || tcp_sockets
echo 1 >$S/running || fail "cannot start the server"
round=0
SOAK_PIPELINE=1 load warm-up-pipelined -c 8 -d 5s -s /tests/final/soak.lua http://127.0.0.1:80/
load warm-up-single -c 64 -d 8s -s /tests/final/soak.lua http://127.0.0.1:80/
load warm-up-close -c 16 -d 5s -H 'Connection: close' http://127.0.0.1:80/1k.bin
stop_and_settle
before=$(slab_kib)
slab_objects >/tmp/slab-before
note "slab after a warm-up, with the server stopped: $before KiB"

echo 1 >$S/running || fail "cannot start the server"
req0=$(v requests)
for k in 2 3 4; do eval "r${k}0=\$(v responses_${k}xx)"; done
t0=$(date +%s)
served=0
while [ "$served" -lt "$want" ]; do
	round=$((round + 1))
	[ $(($(date +%s) - t0)) -lt 2700 ] || fail "only $served requests after 45 minutes"
	# The mix pipelined (the bulk of the requests), 8 connections: faster
	# than 32 on the debug kernel (510 against 430 requests/s).
	SOAK_PIPELINE=1 load pipelined -c 8 -d 30s -s /tests/final/soak.lua http://127.0.0.1:80/
	# Every fifth round: the mix one request per write, and connection per request.
	if [ $((round % 5)) = 1 ]; then
		load single -c 64 -d 10s -s /tests/final/soak.lua http://127.0.0.1:80/
		load close -c 16 -d 10s -H 'Connection: close' http://127.0.0.1:80/1k.bin
	fi
	served=$(($(v requests) - req0))
	echo "soak: $served requests after $(($(date +%s) - t0)) s" >/dev/console
done
note "the server answered $served requests in $(($(date +%s) - t0)) s ($round rounds)"
for k in 2 3 4; do
	eval "d=\$((\$(v responses_${k}xx) - r${k}0))"
	note "${k}xx responses: $d"
	[ "$d" -gt 1000 ] || fail "only $d ${k}xx responses: the mix should reach every class"
done
stop_and_settle
# A socket in LAST_ACK with no timer armed never goes (a lost FIN is never
# sent again): the LAST_ACK orphans of Documentation/tux/hardening.rst.
stuck=$(awk 'FNR > 1 && $4 == "09" { split($6, t, ":"); if (t[1] + 0 == 0) n++ } END { print n + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
note "sockets in LAST_ACK with no timer: $stuck"
[ "$stuck" = 0 ] || { tcp_sockets; fail "$stuck sockets in LAST_ACK with no timer armed"; }
after=$(slab_kib)
note "slab after the soak and stop: $after KiB (baseline $before KiB, delta $((after - before)) KiB)"
note "the caches that grew most:"
slab_growth /tmp/slab-before | tee /dev/console
[ $((after - before)) -le 1024 ] || { grep -E '^(Slab|SReclaimable|SUnreclaim)' /proc/meminfo; fail "slab grew by $((after - before)) KiB"; }
