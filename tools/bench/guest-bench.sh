#!/bin/sh
# Runs inside the guest (tux.mode=bench): every server × workload × run,
# one "BENCH {json}" line on the console per measurement.
#
# Environment (from the kernel command line, see tools/bench/bench.py):
#   BENCH_SERVERS  tux,nginx,lighttpd,ceiling and the HTTPS peers
#                  tux-https,nginx-https,nginx-ktls
#                                            BENCH_SIZES  1k,16k,1m
#   BENCH_CONNS    1,32,256                  BENCH_MODES  keepalive,close
#   BENCH_RUNS     3                         BENCH_SECS   2
#   BENCH_BIG_SECS seconds of the runs that move BENCH_BIG_MIB (64) MiB or more
#                  at once (connections x file size: 1 MiB at 256 connections)
#   BENCH_HTTPS_CONNS  the connection counts of BENCH_CONNS at which the HTTPS
#                  peers run (32)
#   BENCH_MEM_CONNS  idle keep-alive connections for the memory measurement
#                    (0: skip it), BENCH_MEM_SERVERS which servers
# vCPU layout: servers and wrk are not pinned; they share the guest's vCPUs
# (TUX runs in workqueue workers on the CPU that received the packet).
set -u
S=/proc/sys/net/tux
: "${BENCH_SERVERS:=tux,nginx,lighttpd}" "${BENCH_SIZES:=1k,16k,1m}"
: "${BENCH_CONNS:=1,32,256}" "${BENCH_MODES:=keepalive,close}"
: "${BENCH_RUNS:=3}" "${BENCH_SECS:=2}" "${BENCH_BIG_MIB:=64}"
: "${BENCH_BIG_SECS:=$BENCH_SECS}"
: "${BENCH_MEM_CONNS:=0}" "${BENCH_MEM_SERVERS:=tux,nginx,lighttpd}"
: "${BENCH_HTTPS_CONNS:=32}"
# The kernel hands unknown NAME=VALUE parameters to init as environment
# variables; lists are comma-separated there.
BENCH_SERVERS=$(echo "$BENCH_SERVERS" | tr , ' ')
BENCH_SIZES=$(echo "$BENCH_SIZES" | tr , ' ')
BENCH_CONNS=$(echo "$BENCH_CONNS" | tr , ' ')
BENCH_MODES=$(echo "$BENCH_MODES" | tr , ' ')
BENCH_MEM_SERVERS=$(echo "$BENCH_MEM_SERVERS" | tr , ' ')
BENCH_HTTPS_CONNS=$(echo "$BENCH_HTTPS_CONNS" | tr , ' ')
# The ceiling (tux_ceiling.ko, CONFIG_TUX_BENCH_CEILING) listens on six
# ports from CEILING_PORT: 1k, 16k, 1m keep-alive, then the same closing.
CEILING_PORT=8000
mkdir -p /var/log/nginx /var/lib/nginx /run /var/cache/lighttpd /var/lock

# The HTTPS peers run only the workloads of the HTTPS table: 1 KiB and 1 MiB
# keep-alive, and 1 KiB with a new connection (a full handshake) per request,
# at the connection counts of BENCH_HTTPS_CONNS.
https_server() { case $1 in *-https | *-ktls) return 0 ;; esac; return 1; }
https_workload() { # SIZE MODE CONNS
	case " $BENCH_HTTPS_CONNS " in *" $3 "*) ;; *) return 1 ;; esac
	[ "$2" = keepalive ] && [ "$1" != 16k ] && return 0
	[ "$2" = close ] && [ "$1" = 1k ]
}
# Answering: over HTTPS, curl (busybox wget has no TLS here).
answers() { # PORT
	if [ "$SCHEME" = https ]; then
		curl -sk -o /dev/null --max-time 5 "https://127.0.0.1:$1/1k.bin"
	else
		wget -q -O /dev/null "http://127.0.0.1:$1/1k.bin" 2>/dev/null
	fi
}

start() {
	SCHEME=http
	case $1 in
	tux)
		# No per-source limit: the load (and the 10,000 idle connections of the
		# memory runs) comes from one address, and nginx has no such limit either.
		echo /srv/www >$S/documentroot && echo 80 >$S/port && echo 0 >$S/logging &&
			echo 100000 >$S/max_connect && echo 0 >$S/max_connect_per_source &&
			echo 1 >$S/running
		PORT=80 ;;
	nginx) echo 0 >$S/running; nginx -c /bench/nginx.conf; PORT=8080 ;;
	tux-https)
		# TUX as above, its HTTPS port, and the handshake agent.
		echo /srv/www >$S/documentroot && echo 80 >$S/port && echo 0 >$S/logging &&
			echo 100000 >$S/max_connect && echo 0 >$S/max_connect_per_source &&
			echo 443 >$S/https_port && echo 1 >$S/running
		tux -c /bench/tlsd.toml tlsd >/tmp/tlsd-bench.log 2>&1 &
		PORT=443 SCHEME=https ;;
	nginx-https) echo 0 >$S/running; nginx -c /bench/nginx-https.conf; PORT=8443 SCHEME=https ;;
	nginx-ktls) echo 0 >$S/running; nginx -c /bench/nginx-ktls.conf; PORT=8444 SCHEME=https ;;
	lighttpd) echo 0 >$S/running; lighttpd -f /bench/lighttpd.conf; PORT=8081 ;;
	ceiling)
		echo 0 >$S/running
		grep -q '^tux_ceiling ' /proc/modules ||
			insmod /lib/modules/tux_ceiling.ko port=$CEILING_PORT
		PORT=$CEILING_PORT ;;
	esac
	# Serving, not just started: a server may take longer than a second to
	# listen on a loaded guest (nginx after TUX closed 10,000 connections did).
	i=0
	until answers "$PORT"; do
		i=$((i + 1))
		[ $i -lt 60 ] || {
			echo "BENCH-ERROR start: $1 does not answer on port $PORT"
			[ "$1" = tux-https ] && sed 's/^/BENCH-ERROR tlsd: /' /tmp/tlsd-bench.log
			break
		}
		sleep 0.5
	done
}

stop() {
	case $1 in
	tux) echo 0 >$S/running ;;
	nginx) nginx -c /bench/nginx.conf -s stop ;;
	tux-https)
		kill "$(cat /run/tux/tlsd.pid)" 2>/dev/null
		echo 0 >$S/running; echo 0 >$S/https_port ;;
	nginx-https) nginx -c /bench/nginx-https.conf -s stop ;;
	nginx-ktls) nginx -c /bench/nginx-ktls.conf -s stop ;;
	lighttpd) killall lighttpd ;;
	ceiling) rmmod tux_ceiling ;;
	esac
	sleep 1
}

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# TCP segments sent so far (/proc/net/snmp's Tcp OutSegs): over loopback,
# the packets both ends of every connection sent, data and pure ACKs alike.
segs() {
	awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) if ($i == "OutSegs") c = i; h = 1; next }
	     $1 == "Tcp:" { print $c }' /proc/net/snmp
}

# wrk's "Latency ... 1.23ms" values → microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n = n; else if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000; else n = -1
		printf "%d", n }'
}

# The ceiling's port for a workload: one canned size and mode per port.
ceiling_port() { # SIZE MODE
	p=$CEILING_PORT
	case $1 in 16k) p=$((p + 1)) ;; 1m) p=$((p + 2)) ;; esac
	[ "$2" = close ] && p=$((p + 3))
	echo $p
}

# One wrk run of SECS seconds at the current workload ($conns, $port, $size),
# with wrk's further options after it.
load() { # SECS [OPTION...]
	d=$1; shift
	wrk -t 1 -c "$conns" -d "${d}s" --latency --timeout 5s "$@" \
		"$SCHEME://127.0.0.1:$port/$size.bin" 2>&1
}

for server in $BENCH_SERVERS; do
	start "$server"
	if ! answers "$PORT"; then
		echo "BENCH-ERROR $server does not serve on port $PORT"
		stop "$server"; continue
	fi
	for size in $BENCH_SIZES; do
	for mode in $BENCH_MODES; do
	for conns in $BENCH_CONNS; do
	https_server "$server" && ! https_workload "$size" "$mode" "$conns" && continue
	# A server that shares its bandwidth fairly finishes the responses of all
	# its connections at about the same time, one round of conns x size
	# later: a run must hold several rounds, or it counts the ramp.
	secs=$BENCH_SECS
	case $size in 1k) kib=1 ;; 16k) kib=16 ;; *) kib=1024 ;; esac
	[ $((conns * kib)) -ge $((BENCH_BIG_MIB * 1024)) ] && secs=$BENCH_BIG_SECS
	# Over TLS every workload gets the long runs: under TCG the cipher is
	# emulated (AES-GCM at ~8 MB/s in the guest), and a run of full handshakes
	# holds only a few dozen of them per second of guest time.
	https_server "$server" && secs=$BENCH_BIG_SECS
	for run in $(seq 1 "$BENCH_RUNS"); do
		port=$PORT
		[ "$server" = ceiling ] && port=$(ceiling_port "$size" "$mode")
		# Connection per request: wrk needs "Name: value", with the space.
		if [ "$mode" = close ]; then set -- -H "Connection: close"; else set --; fi
		# Keep-alive over TLS: each connection starts with a full handshake, and
		# under emulation those of 32 connections fill most of a short run, which
		# would measure handshakes. The steady state is taken by difference: a
		# run of SECS, then one of 2 x SECS with the same ramp; the figures are
		# the second minus the first, over SECS ("steady":1).
		warm=0 warm_busy=0 warm_segs=0 steady=0 dur=$secs
		if https_server "$server" && [ "$mode" = keepalive ]; then
			b0=$(busy) s0=$(segs)
			out=$(load "$secs")
			b1=$(busy) s1=$(segs)
			warm=$(echo "$out" | awk '/requests in/ { print $1 }')
			warm=${warm:-0} warm_busy=$((b1 - b0)) warm_segs=$((s1 - s0))
			steady=1 dur=$((secs * 2))
		fi
		b0=$(busy) s0=$(segs)
		out=$(load "$dur" "$@")
		b1=$(busy) s1=$(segs)
		reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
		rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
		if [ "$steady" = 1 ]; then
			reqs=$((${reqs:-0} - warm))
			[ "$reqs" -lt 0 ] && reqs=0
			rps=$(awk -v r="$reqs" -v s="$secs" 'BEGIN { printf "%.2f", r / s }')
		fi
		bytes=$(echo "$out" | awk '/requests in/ { print $5 }')
		p50=$(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
		p90=$(to_us "$(echo "$out" | awk '$1 == "90%" { print $2 }')")
		p99=$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
		pmax=$(to_us "$(echo "$out" | awk '$1 == "Latency" && NF >= 4 { print $4; exit }')")
		errs=$(echo "$out" | awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }')
		non2xx=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
		echo "BENCH {\"server\":\"$server\",\"size\":\"$size\",\"mode\":\"$mode\",\"conns\":$conns,\"run\":$run,\"secs\":$secs,\"requests\":${reqs:-0},\"rps\":${rps:-0},\"bytes\":\"${bytes:-0}\",\"p50_us\":${p50:--1},\"p90_us\":${p90:--1},\"p99_us\":${p99:--1},\"max_us\":${pmax:--1},\"errors\":${errs:-0},\"non2xx\":${non2xx:-0},\"busy_jiffies\":$((b1 - b0 - warm_busy)),\"segments\":$((s1 - s0 - warm_segs)),\"steady\":$steady}"
	done; done; done; done
	stop "$server"
done

# Memory per idle keep-alive connection: BENCH_MEM_CONNS connections that
# each made one request, held open by idleconns. Kernel memory is Slab +
# KernelStack + PageTables (/proc/meminfo) + TCP buffer pages
# (/proc/net/sockstat); userspace is the server processes' RSS. Both ends of
# every connection are in this guest: the client's sockets are in every
# server's figure alike.
kernel_kib() {
	sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1
	m=$(awk '/^(Slab|KernelStack|PageTables):/ { s += $2 } END { print s }' /proc/meminfo)
	t=$(awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) * 4 }' /proc/net/sockstat)
	echo $((m + ${t:-0}))
}
rss_kib() { # NAME: the summed VmRSS of its processes
	s=0
	for pid in $(pidof "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' /proc/$pid/status 2>/dev/null)
		s=$((s + ${r:-0}))
	done
	echo $s
}
if [ "$BENCH_MEM_CONNS" -gt 0 ]; then
	ulimit -n 1048576
	echo "$((BENCH_MEM_CONNS * 2 + 1000))" >/proc/sys/fs/file-max 2>/dev/null
	echo "1024 65000" >/proc/sys/net/ipv4/ip_local_port_range
	for server in $BENCH_MEM_SERVERS; do
		# TUX takes its settings when it starts.
		[ "$server" = tux ] && echo 3600 >$S/keepalive_timeout
		start "$server"
		k0=$(kernel_kib); u0=$(rss_kib "$server")
		rm -f /tmp/idle.in && mkfifo /tmp/idle.in
		idleconns "$BENCH_MEM_CONNS" "$PORT" /1k.bin </tmp/idle.in >/tmp/idle.out 2>&1 &
		idle=$!
		exec 3>/tmp/idle.in
		i=0
		until grep -q '^READY' /tmp/idle.out || ! kill -0 $idle 2>/dev/null || [ $i -ge 600 ]; do
			sleep 1; i=$((i + 1))
		done
		if grep -q '^READY' /tmp/idle.out; then
			k1=$(kernel_kib); u1=$(rss_kib "$server")
			echo "BENCH-MEM {\"server\":\"$server\",\"conns\":$BENCH_MEM_CONNS,\"kernel_kib\":$((k1 - k0)),\"user_kib\":$((u1 - u0)),\"user_kib_total\":$u1}"
		else
			echo "BENCH-ERROR memory: $server: $(tail -n 1 /tmp/idle.out)"
		fi
		exec 3>&-
		wait $idle
		stop "$server"
		[ "$server" = tux ] && echo 30 >$S/keepalive_timeout
	done
fi
echo "TUX-BENCH-END"
