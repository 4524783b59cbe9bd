#!/bin/sh
# 500 concurrent keep-alive connections from inside the guest (QEMU's user
# networking cannot carry that many simultaneous connects from the host):
# every request is answered 2xx, no connect/read/write error or timeout.
# The debug kernel (KASAN, lockdep, kmemleak under TCG) is ~20x slower: give
# it the time to open the 500 connections; the checks stay the same.
secs=3 tmo=10
[ -e /sys/kernel/debug/kmemleak ] && secs=30 tmo=60
out=$(wrk -t 2 -c 500 -d ${secs}s --timeout ${tmo}s http://127.0.0.1:80/index.html 2>&1)
echo "$out"
reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
[ -n "$reqs" ] && [ "$reqs" -ge 500 ] || { echo "only ${reqs:-0} requests completed"; exit 1; }
if echo "$out" | grep -q 'Socket errors'; then echo "socket errors: $(echo "$out" | grep 'Socket errors')"; exit 1; fi
if echo "$out" | grep -q 'Non-2xx'; then echo "non-2xx responses: $(echo "$out" | grep 'Non-2xx')"; exit 1; fi
