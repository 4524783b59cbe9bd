#!/bin/sh
# defer_accept: a connection is accepted when its request is there
# (TCP_DEFER_ACCEPT), so that one wake-up accepts, reads and answers it.
# With the period at 30 s, a connection that sends nothing for 2 s is not
# accepted (connections_total does not move), and is served when its request
# comes; with defer_accept 0, the same connection is accepted before it sends
# anything.
S=/proc/sys/net/tux
restore() { echo 1 >$S/defer_accept; echo 1 >$S/running; }
trap restore EXIT
total() { awk '/^connections_total / { print $2 }' /proc/net/tux/stats; }
[ "$(cat $S/defer_accept)" = 1 ] || { echo "default defer_accept is not 1: $(cat $S/defer_accept)"; exit 1; }
[ -n "$(total)" ] || { echo "no connections_total in /proc/net/tux/stats"; exit 1; }
echo 30 >$S/defer_accept && echo 1 >$S/running || { echo "cannot set defer_accept"; exit 1; }
before=$(total)
( (sleep 2; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 2) | nc 127.0.0.1 80 >/tmp/defer.out ) &
client=$!
sleep 1
mid=$(total)
[ "$mid" = "$before" ] || { echo "a connection that sent nothing was accepted with defer_accept 30 ($before -> $mid)"; exit 1; }
wait $client
head -n1 /tmp/defer.out | grep -q ' 200 ' || { echo "the deferred connection was not served: $(head -n1 /tmp/defer.out)"; exit 1; }
after=$(total)
[ "$after" -eq $((before + 1)) ] || { echo "the deferred connection was not counted once ($before -> $after)"; exit 1; }
echo 0 >$S/defer_accept && echo 1 >$S/running || exit 1
before=$(total)
( (sleep 12; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) | nc 127.0.0.1 80 >/tmp/defer.out ) &
client=$!
i=0
until [ "$(total)" -gt "$before" ]; do
	i=$((i + 1)); [ $i -lt 40 ] || { echo "with defer_accept 0, a silent connection was not accepted within 10 s"; exit 1; }
	sleep 0.25
done
wait $client
head -n1 /tmp/defer.out | grep -q ' 200 ' || { echo "the connection was not served with defer_accept 0: $(head -n1 /tmp/defer.out)"; exit 1; }
echo "defer_accept ok"
