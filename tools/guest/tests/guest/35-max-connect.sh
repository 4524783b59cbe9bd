#!/bin/sh
# Beyond max_connect, a new connection is answered 503 and closed, and the
# server keeps serving once connections go away. The slots are taken by
# connections that send nothing, so defer_accept is off: with it, they would
# be accepted only after its period.
S=/proc/sys/net/tux
restore() { echo 1024 >$S/max_connect; echo 1 >$S/defer_accept; echo 1 >$S/running; }
trap restore EXIT
echo 2 >$S/max_connect && echo 0 >$S/defer_accept && echo 1 >$S/running ||
	{ echo "cannot set max_connect"; exit 1; }
# Two idle connections take both slots.
(sleep 6 | nc 127.0.0.1 80 >/dev/null 2>&1) &
(sleep 6 | nc 127.0.0.1 80 >/dev/null 2>&1) &
sleep 1
out=$(timeout 5 wget -q -O /dev/null http://127.0.0.1/ 2>&1)
echo "$out" | grep -q '503' || { echo "third connection not refused with 503: '$out'"; exit 1; }
grep -q '^connections_refused [1-9]' /proc/net/tux/stats || { echo "connections_refused not counted"; exit 1; }
wait
i=0
until timeout 5 wget -q -O /tmp/mc.out http://127.0.0.1/ 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 20 ] || { echo "not serving after the idle connections closed"; exit 1; }
	sleep 0.5
done
