#!/bin/sh
# Stopping closes every connection and the listener.
S=/proc/sys/net/tux
echo 0 >$S/running || { echo "stop failed"; exit 1; }
i=0
while [ "$(awk '$1 == "connections_open" { print $2 }' /proc/net/tux/stats)" != 0 ]; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "connections_open not 0 after 5 s"; exit 1; }
	sleep 0.1
done
timeout 5 wget -q -O /tmp/get.out http://127.0.0.1/ 2>&1 | grep -q refused ||
	{ echo "connection not refused after stop"; exit 1; }
