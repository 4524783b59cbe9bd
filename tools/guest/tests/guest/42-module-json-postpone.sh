#!/bin/sh
# tux-test-timeout: 300
# libtux's json and postpone examples: JSON with an increasing counter at
# /api/stats, /slow answered by a worker thread after its delay, both in
# parallel with static GETs; SIGTERM ends them with exit 0, and the server
# holds nothing of theirs afterwards.
U=http://127.0.0.1
T=/tmp/t42
# Module threads per process (more than one: they share the requests).
N=${TUX_TEST_MODULE_THREADS:-2}
rm -rf $T; mkdir -p $T
stat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tux/stats; }
jpid=; ppid=
# end PID: SIGTERM, and SIGKILL if it is still there 5 s later (a stuck
# module thread must not outlive the test)
end() {
	kill -TERM $1 2>/dev/null || return 0
	i=0
	while [ $i -lt 10 ] && kill -0 $1 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
	kill -9 $1 2>/dev/null
	wait $1 2>/dev/null
}
fail() {
	[ -n "$jpid" ] && end $jpid
	[ -n "$ppid" ] && end $ppid
	for f in $T/json.log $T/postpone.log; do [ -s $f ] && { echo "== $f"; tail -n 5 $f; }; done
	echo "$1"
	exit 1
}
# wait_up URL: poll until the module answers (bounded: 10 s)
wait_up() {
	i=0
	while [ $i -lt 20 ]; do
		timeout 5 wget -q -O $T/up.out "$1" 2>/dev/null && return 0
		sleep 0.5; i=$((i + 1))
	done
	return 1
}
counter() { sed -n 's/^{"requests":\([0-9][0-9]*\),"time":[0-9][0-9]*,"client":"[^"]*","path":"[^"]*","user_agent":"[^"]*"}$/\1/p' "$1"; }

timeout 5 wget -q -O $T/pre.out $U/ || fail "not serving before the test"
aborted0=$(stat_of module_aborted)
mreq0=$(stat_of module_requests)
[ -n "$aborted0" ] && [ -n "$mreq0" ] || fail "no module counters in /proc/net/tux/stats"

json $N >$T/json.log 2>&1 &
jpid=$!
wait_up $U/api/stats || {
	kill -0 $jpid 2>/dev/null || fail "json $N exited at start: $(tail -n 1 $T/json.log)"
	fail "json module never answered /api/stats"
}

# JSON: the shape, and a counter that goes up by one per request.
prev=
for i in 1 2 3; do
	timeout 5 wget -q -O $T/j$i.out "$U/api/stats?x=$i" || fail "GET /api/stats #$i failed"
	n=$(counter $T/j$i.out)
	[ -n "$n" ] || { cat $T/j$i.out; fail "GET /api/stats #$i: not the expected JSON object"; }
	if [ -n "$prev" ] && [ "$n" -ne $((prev + 1)) ]; then
		fail "JSON counter went $prev -> $n (want +1)"
	fi
	prev=$n
done
grep -q '"path":"/api/stats"' $T/j1.out || { cat $T/j1.out; fail "JSON path is not /api/stats"; }
grep -q '"client":"127.0.0.1"' $T/j1.out || { cat $T/j1.out; fail "JSON client is not 127.0.0.1"; }
# Over IPv6: tux(2) reports the client as AF_INET6.
timeout 5 wget -q -O $T/j6.out 'http://[::1]/api/stats' || fail "GET /api/stats over [::1] failed"
grep -q '"client":"::1"' $T/j6.out || { cat $T/j6.out; fail "JSON client over IPv6 is not ::1"; }
# A path under the prefix goes to the module too (raw, as sent).
timeout 5 wget -q -O $T/jq.out "$U/api/stats/sub%20x" || fail "GET /api/stats/sub%20x failed"
grep -q '"path":"/api/stats/sub%20x"' $T/jq.out || { cat $T/jq.out; fail "JSON path of /api/stats/sub%20x is wrong"; }

# fast_gets: 10 static and 10 JSON GETs, one after the other.
fast_gets() {
	i=0
	while [ $i -lt 10 ]; do
		timeout 5 wget -q -O $T/s.out $U/ || fail "static GET #$i failed $1"
		timeout 5 wget -q -O $T/jp.out $U/api/stats || fail "JSON GET #$i failed $1"
		counter $T/jp.out | grep -q . || fail "bad JSON $1"
		i=$((i + 1))
	done
}
# What they take with nothing parked sets the worker's delay: long enough
# that, on this machine (a debug kernel under TCG takes 10 s and more), the
# same requests finish well before a parked request is continued.
start=$(date +%s)
fast_gets "with nothing parked"
alone=$(( $(date +%s) - start ))
delay=$((2 * alone + 4))
# A parked request must still be continued within module_timeout.
mt=$(cat /proc/sys/net/tux/module_timeout)
[ $delay -le $((mt - 5)) ] || delay=$((mt - 5))

postpone $((delay * 1000)) $N >$T/postpone.log 2>&1 &
ppid=$!
# postpone: answered by the worker after the delay, not much later. Until
# the module has registered, /slow is a static 404: ask again.
i=0
while :; do
	kill -0 $ppid 2>/dev/null || fail "postpone $((delay * 1000)) $N exited: $(tail -n 1 $T/postpone.log)"
	start=$(date +%s)
	timeout $((delay + 10)) wget -q -O $T/slow.out $U/slow 2>/dev/null && break
	[ $(( $(date +%s) - start )) -lt $((delay + 9)) ] || fail "GET /slow timed out (delay ${delay}s)"
	i=$((i + 1))
	[ $i -lt 20 ] || fail "GET /slow never answered by the postpone module"
	sleep 0.5
done
took=$(( $(date +%s) - start ))
grep -q 'continued by a worker thread' $T/slow.out || { cat $T/slow.out; fail "wrong /slow body"; }
[ $took -ge $((delay - 1)) ] || fail "GET /slow took ${took}s: answered before its ${delay}s delay"
[ $took -le $((delay + 5)) ] || fail "GET /slow took ${took}s for a ${delay}s delay"

# In parallel: 4 slow requests, then 10 JSON and 10 static GETs. The slow
# ones are parked in the worker; nothing else may wait for them: all 20
# must be answered while the 4 are still parked (an order, not a timing:
# queued behind them, they would come after the delay).
i=0
slow=
while [ $i -lt 4 ]; do
	( timeout $((delay + 15)) wget -q -O $T/p$i.out $U/slow && grep -q 'continued by a worker' $T/p$i.out && touch $T/p$i.ok ) &
	slow="$slow $!"
	i=$((i + 1))
done
start=$(date +%s)
fast_gets "while /slow requests were parked"
fast=$(( $(date +%s) - start ))
done_early=$(ls $T/p?.ok 2>/dev/null | wc -l)
# Only the fetchers: a bare `wait` would also wait for the modules.
for p in $slow; do wait $p; done
for i in 0 1 2 3; do [ -e $T/p$i.ok ] || fail "parallel GET /slow #$i failed"; done
[ "$done_early" = 0 ] ||
	fail "static/JSON requests ended after $done_early parked /slow requests (${fast}s; ${alone}s alone, delay ${delay}s)"
echo "20 static/JSON requests: ${alone}s alone, ${fast}s next to 4 parked for ${delay}s"

# SIGTERM: both exit 0 and unregister.
kill -TERM $jpid $ppid
i=0
while [ $i -lt 20 ] && { kill -0 $jpid 2>/dev/null || kill -0 $ppid 2>/dev/null; }; do
	sleep 0.5; i=$((i + 1))
done
kill -0 $jpid 2>/dev/null && fail "json still runs 10 s after SIGTERM"
kill -0 $ppid 2>/dev/null && fail "postpone still runs 10 s after SIGTERM"
wait $jpid; jrc=$?
wait $ppid; prc=$?
jpid=; ppid=
[ $jrc = 0 ] || fail "json exited with $jrc after SIGTERM (want 0)"
[ $prc = 0 ] || fail "postpone exited with $prc after SIGTERM (want 0)"

# No leftovers: the prefixes are gone (404 from the static path), no module
# request was aborted by the kernel, every module request was counted, the
# connections are closed, static GETs still work.
out=$(timeout 5 wget -q -O $T/gone.out $U/api/stats 2>&1)
echo "$out" | grep -q '404' || fail "GET /api/stats after exit: want 404, got: ${out:-200}"
out=$(timeout 5 wget -q -O $T/gone.out $U/slow 2>&1)
echo "$out" | grep -q '404' || fail "GET /slow after exit: want 404, got: ${out:-200}"
timeout 5 wget -q -O $T/post.out $U/ || fail "static GET failed after the modules exited"
cmp -s $T/pre.out $T/post.out || fail "static file changed after the modules exited"
aborted1=$(stat_of module_aborted)
mreq1=$(stat_of module_requests)
[ "$aborted1" = "$aborted0" ] || fail "module_aborted went $aborted0 -> $aborted1: the kernel had to answer module requests"
# 1 probe or more + 3 + 1 + 1 + 4 + 10 module requests at least
[ $((mreq1 - mreq0)) -ge 20 ] || fail "module_requests went $mreq0 -> $mreq1 (want >= +20)"
i=0
while [ $i -lt 20 ] && [ "$(stat_of connections_open)" != 0 ]; do sleep 0.25; i=$((i + 1)); done
[ "$(stat_of connections_open)" = 0 ] || fail "connections_open is $(stat_of connections_open) after all clients ended"
# The prefixes can be registered again (nothing was left registered).
json 1 >$T/json2.log 2>&1 &
jpid=$!
wait_up $U/api/stats || { cat $T/json2.log; fail "json could not register /api/stats again"; }
kill -TERM $jpid
i=0
while [ $i -lt 20 ] && kill -0 $jpid 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
kill -0 $jpid 2>/dev/null && fail "second json still runs 10 s after SIGTERM"
wait $jpid; rc=$?; jpid=
[ $rc = 0 ] || fail "second json exited with $rc"
grep -E '^(module_requests|module_aborted|connections_open) ' /proc/net/tux/stats
echo "json/postpone ok"
