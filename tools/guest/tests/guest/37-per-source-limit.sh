#!/bin/sh
# max_connect_per_source: one client address may not hold every slot. With
# the limit at 4, four idle connections from 127.0.0.2 leave a fifth from
# 127.0.0.2 answered 503, while 127.0.0.3 and 127.0.0.4 are still served;
# the refusal is counted apart from max_connect's, and with the limit at 0
# (off) the same fifth connection is served. The held connections send
# nothing, so defer_accept is off: with it, they would be accepted only after
# its period.
command -v srcconns >/dev/null 2>&1 || { echo "srcconns is not installed in the guest"; exit 1; }
S=/proc/sys/net/tux
restore() { echo 512 >$S/max_connect_per_source; echo 1 >$S/defer_accept; echo 1 >$S/running; }
trap restore EXIT
[ "$(cat $S/max_connect_per_source)" = 512 ] || { echo "default max_connect_per_source is not 512"; exit 1; }
before=$(awk '/^connections_refused_per_source / { print $2 }' /proc/net/tux/stats)
[ -n "$before" ] || { echo "no connections_refused_per_source in /proc/net/tux/stats"; exit 1; }
echo 4 >$S/max_connect_per_source && echo 0 >$S/defer_accept && echo 1 >$S/running ||
	{ echo "cannot set max_connect_per_source"; exit 1; }
out=$(srcconns 127.0.0.2 4 80 127.0.0.2 127.0.0.3 127.0.0.4)
echo "$out"
echo "$out" | grep -qx '127.0.0.2 503' || { echo "a fifth connection from 127.0.0.2 was not refused with 503"; exit 1; }
echo "$out" | grep -qx '127.0.0.3 200' || { echo "127.0.0.3 was not served while 127.0.0.2 was at its limit"; exit 1; }
echo "$out" | grep -qx '127.0.0.4 200' || { echo "127.0.0.4 was not served while 127.0.0.2 was at its limit"; exit 1; }
after=$(awk '/^connections_refused_per_source / { print $2 }' /proc/net/tux/stats)
[ "$after" -gt "$before" ] || { echo "connections_refused_per_source not counted ($before -> $after)"; exit 1; }
# The held connections are gone (their FINs are handled asynchronously).
i=0
until out=$(srcconns 127.0.0.2 0 80 127.0.0.2) && [ "$out" = '127.0.0.2 200' ]; do
	i=$((i + 1)); [ $i -lt 20 ] || { echo "127.0.0.2 not served after its connections closed: $out"; exit 1; }
	sleep 0.5
done
# IPv6 clients count by /64: a host picks addresses in its /64 at will.
# (No DAD on lo: the addresses are usable at once.)
for a in 2001:db8:1::2 2001:db8:1::3 2001:db8:2::2; do ip -6 addr add $a/64 dev lo || exit 1; done
out=$(srcconns 2001:db8:1::2 4 80 2001:db8:1::3 2001:db8:2::2 127.0.0.3)
echo "$out"
echo "$out" | grep -qx '2001:db8:1::3 503' || { echo "another address of the same /64 was not refused with 503"; exit 1; }
echo "$out" | grep -qx '2001:db8:2::2 200' || { echo "another /64 was not served"; exit 1; }
echo "$out" | grep -qx '127.0.0.3 200' || { echo "an IPv4 client was not served"; exit 1; }
for a in 2001:db8:1::2 2001:db8:1::3 2001:db8:2::2; do ip -6 addr del $a/64 dev lo; done
echo 0 >$S/max_connect_per_source && echo 1 >$S/running || exit 1
out=$(srcconns 127.0.0.2 4 80 127.0.0.2)
echo "$out" | grep -qx '127.0.0.2 200' || { echo "with the limit off, a fifth connection was not served: $out"; exit 1; }
echo "per-source limit ok"
