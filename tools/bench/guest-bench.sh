#!/bin/sh
# Runs inside the guest (tux.mode=bench): every server × workload × run,
# one "BENCH {json}" line on the console per measurement.
#
# Environment (from the kernel command line, see tools/bench/bench.py):
#   BENCH_SERVERS  tux,nginx,lighttpd        BENCH_SIZES  1k,16k,1m
#   BENCH_CONNS    1,32,256                  BENCH_MODES  keepalive,close
#   BENCH_RUNS     3                         BENCH_SECS   2
# vCPU layout: servers and wrk are not pinned; they share the guest's vCPUs
# (TUX runs in workqueue workers on the CPU that received the packet).
set -u
S=/proc/sys/net/tux
: "${BENCH_SERVERS:=tux,nginx,lighttpd}" "${BENCH_SIZES:=1k,16k,1m}"
: "${BENCH_CONNS:=1,32,256}" "${BENCH_MODES:=keepalive,close}"
: "${BENCH_RUNS:=3}" "${BENCH_SECS:=2}"
# The kernel hands unknown NAME=VALUE parameters to init as environment
# variables; lists are comma-separated there.
BENCH_SERVERS=$(echo "$BENCH_SERVERS" | tr , ' ')
BENCH_SIZES=$(echo "$BENCH_SIZES" | tr , ' ')
BENCH_CONNS=$(echo "$BENCH_CONNS" | tr , ' ')
BENCH_MODES=$(echo "$BENCH_MODES" | tr , ' ')
mkdir -p /var/log/nginx /var/lib/nginx /run /var/cache/lighttpd /var/lock

start() {
	case $1 in
	tux)
		echo /srv/www >$S/documentroot && echo 80 >$S/port && echo 0 >$S/logging &&
			echo 100000 >$S/max_connect && echo 1 >$S/running
		PORT=80 ;;
	nginx) echo 0 >$S/running; nginx -c /bench/nginx.conf; PORT=8080 ;;
	lighttpd) echo 0 >$S/running; lighttpd -f /bench/lighttpd.conf; PORT=8081 ;;
	esac
	sleep 1
}

stop() {
	case $1 in
	tux) echo 0 >$S/running ;;
	nginx) nginx -c /bench/nginx.conf -s stop ;;
	lighttpd) killall lighttpd ;;
	esac
	sleep 1
}

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# wrk's "Latency ... 1.23ms" values → microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n = n; else if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000; else n = -1
		printf "%d", n }'
}

for server in $BENCH_SERVERS; do
	start "$server"
	if ! wget -q -O /dev/null "http://127.0.0.1:$PORT/1k.bin"; then
		echo "BENCH-ERROR $server does not serve on port $PORT"
		stop "$server"; continue
	fi
	for size in $BENCH_SIZES; do
	for mode in $BENCH_MODES; do
	for conns in $BENCH_CONNS; do
	for run in $(seq 1 "$BENCH_RUNS"); do
		hdr=""
		[ "$mode" = close ] && hdr="-H Connection:close"
		b0=$(busy)
		# shellcheck disable=SC2086
		out=$(wrk -t 1 -c "$conns" -d "${BENCH_SECS}s" --latency --timeout 5s $hdr \
			"http://127.0.0.1:$PORT/$size.bin" 2>&1)
		b1=$(busy)
		reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
		rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
		bytes=$(echo "$out" | awk '/requests in/ { print $5 }')
		p50=$(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
		p99=$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
		errs=$(echo "$out" | awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }')
		non2xx=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
		echo "BENCH {\"server\":\"$server\",\"size\":\"$size\",\"mode\":\"$mode\",\"conns\":$conns,\"run\":$run,\"secs\":$BENCH_SECS,\"requests\":${reqs:-0},\"rps\":${rps:-0},\"bytes\":\"${bytes:-0}\",\"p50_us\":${p50:--1},\"p99_us\":${p99:--1},\"errors\":${errs:-0},\"non2xx\":${non2xx:-0},\"busy_jiffies\":$((b1 - b0))}"
	done; done; done; done
	stop "$server"
done
echo "TUX-BENCH-END"
