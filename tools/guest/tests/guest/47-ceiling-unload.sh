#!/bin/sh
# tux_ceiling.ko (make bench's canned responder) registers socket events
# whose code and data are the module's: unloading it under load must leave
# no callback of the stack pointing into it. Three load/serve/unload cycles
# with wrk keeping 16 connections busy on a keep-alive port and a
# connection-per-request port while rmmod runs; on the debug kernel KASAN
# and KFENCE watch every late callback (99-no-kernel-splat reads the log).
ko=/lib/modules/tux_ceiling.ko
[ -f $ko ] || { echo "$ko is not in the guest"; exit 1; }
for cycle in 1 2 3; do
	insmod $ko port=9100 || { echo "insmod failed (cycle $cycle)"; exit 1; }
	timeout 10 wget -q -O /dev/null http://127.0.0.1:9100/ || { echo "the ceiling does not answer (cycle $cycle)"; exit 1; }
	wrk -t 1 -c 8 -d 4s http://127.0.0.1:9100/ >/tmp/ceil-ka.out 2>&1 &
	ka=$!
	wrk -t 1 -c 8 -d 4s -H 'Connection: close' http://127.0.0.1:9103/ >/tmp/ceil-close.out 2>&1 &
	cl=$!
	sleep 2
	rmmod tux_ceiling || { kill $ka $cl; echo "rmmod failed under load (cycle $cycle)"; exit 1; }
	wait $ka $cl
	grep -q 'requests in' /tmp/ceil-ka.out || { cat /tmp/ceil-ka.out; echo "wrk did not run"; exit 1; }
	grep -q tux_ceiling /proc/modules && { echo "module still listed after rmmod"; exit 1; }
	timeout 5 wget -q -O /dev/null http://127.0.0.1:9100/ 2>/dev/null && { echo "port 9100 still answers after rmmod"; exit 1; }
done
timeout 10 wget -q -O /dev/null http://127.0.0.1/index.html || { echo "TUX does not serve after the cycles"; exit 1; }
echo "ceiling unload under load ok"
