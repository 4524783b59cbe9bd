#!/bin/sh
# An in-kernel handler in a loadable module (samples/rust/rust_tux_status.ko)
# answers /server-status from TUX's counters without leaving the kernel,
# next to static files; it unloads cleanly while requests are in flight
# (unregistration waits for running calls), and load/serve/unload cycles
# leave nothing behind: after the last unload the path is static again (404).
ko=/lib/modules/rust_tux_status.ko
[ -f $ko ] || { echo "$ko is not in the guest"; exit 1; }
get() { timeout 10 wget -q -O /tmp/status.out http://127.0.0.1/server-status; }
get && { echo "/server-status answered before the module was loaded"; exit 1; }
for cycle in 1 2 3; do
	insmod $ko || { echo "insmod failed (cycle $cycle)"; exit 1; }
	get || { echo "GET /server-status failed with the module loaded (cycle $cycle)"; exit 1; }
	grep -q '^TUX server status$' /tmp/status.out || { cat /tmp/status.out; echo "not the handler's page"; exit 1; }
	grep -q '^requests [0-9][0-9]*$' /tmp/status.out || { cat /tmp/status.out; echo "no request counter"; exit 1; }
	grep -q '^path server-status$' /tmp/status.out || { cat /tmp/status.out; echo "wrong path seen by the handler"; exit 1; }
	timeout 10 wget -q -O /tmp/static.out http://127.0.0.1/index.html || { echo "static file failed next to the handler"; exit 1; }
	# Unload under load: 8 connections hammering the handler.
	wrk -t 2 -c 8 -d 3s http://127.0.0.1:80/server-status >/tmp/wrk.out 2>&1 &
	wrkpid=$!
	sleep 1
	rmmod rust_tux_status || { kill $wrkpid; echo "rmmod failed under load (cycle $cycle)"; exit 1; }
	wait $wrkpid
	grep -q 'requests in' /tmp/wrk.out || { cat /tmp/wrk.out; echo "wrk did not run"; exit 1; }
	grep -q rust_tux_status /proc/modules && { echo "module still listed after rmmod"; exit 1; }
	if get; then echo "/server-status still answered after rmmod (cycle $cycle)"; exit 1; fi
done
dmesg | grep -q 'in-kernel handler for /server-status registered' || { echo "no registration message"; exit 1; }
timeout 10 wget -q -O /tmp/static.out http://127.0.0.1/index.html || { echo "static file failed after the cycles"; exit 1; }
