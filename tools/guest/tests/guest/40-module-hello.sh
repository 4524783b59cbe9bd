#!/bin/sh
# A userspace module (libtux's hello example) answers its prefix through
# tux(2), next to static files, and goes away cleanly.
hello >/tmp/hello.log 2>&1 &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	grep -q '^module /hello registered' /tmp/hello.log 2>/dev/null && break
	timeout 5 wget -q -O /tmp/m.out http://127.0.0.1/hello 2>/dev/null && break
	sleep 0.5
done
timeout 10 wget -q -O /tmp/m.out http://127.0.0.1/hello || { cat /tmp/hello.log; echo "GET /hello failed"; kill $pid; exit 1; }
grep -q 'Hello from a tux user module' /tmp/m.out || { cat /tmp/m.out; echo "wrong module body"; kill $pid; exit 1; }
timeout 10 wget -q -O /tmp/s.out http://127.0.0.1/ || { echo "static file failed next to the module"; kill $pid; exit 1; }
kill $pid; wait $pid
grep module_requests /proc/net/tux/stats
