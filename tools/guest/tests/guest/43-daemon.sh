#!/bin/sh
# The tux daemon (tools/tux): `tux run` configures and starts TUX, serves
# its built-in modules next to static files, drains the access log into
# log_file (SIGHUP reopens it), and on SIGTERM unregisters the modules,
# shuts TUX down and exits 0. `tux status/stats/stop`, `run --attach`,
# repeated start/stop, and bad configurations (non-zero exit, the key
# named, no panic). The boot server is restored at the end.
S=/proc/sys/net/tux
U=http://127.0.0.1
T=/tmp/t43
LOG=/tmp/tux-access.log
# Module threads (more than one: they share the requests).
N=${TUX_TEST_MODULE_THREADS:-2}
rm -rf $T $LOG $LOG.1; mkdir -p $T
logging0=$(cat $S/logging)
dpid=
# end PID: SIGTERM, and SIGKILL if it is still there 5 s later (a stuck
# module thread must not outlive the test)
end() {
	kill -TERM $1 2>/dev/null || return 0
	i=0
	while [ $i -lt 10 ] && kill -0 $1 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
	kill -9 $1 2>/dev/null
	wait $1 2>/dev/null
}
restore() {
	[ -n "$dpid" ] && end $dpid
	echo "$logging0" >$S/logging 2>/dev/null
	[ "$(cat $S/running)" = 1 ] || { echo /srv/www >$S/documentroot; echo 80 >$S/port; echo 1 >$S/running; }
}
# up_or_fail PATH WHAT: the daemon answers PATH, or the reason it does not
up_or_fail() {
	wait_up "$1" && return 0
	kill -0 $dpid 2>/dev/null || { wait $dpid; rc=$?; dpid=; fail "$2: the daemon exited ($rc) at start: $(tail -n 1 $T/daemon.log)"; }
	fail "$2: GET $1 never answered"
}
fail() {
	[ -s $T/daemon.log ] && { echo "== daemon output"; tail -n 10 $T/daemon.log; }
	restore
	echo "$1"
	exit 1
}
get() { timeout 5 wget -q -O "$2" "$U$1"; }
# status_of PATH: the HTTP error wget reports ("404"), or "200", or "refused"
status_of() {
	o=$(timeout 5 wget -q -O $T/st.out "$U$1" 2>&1) && { echo 200; return; }
	case $o in
	*refused*) echo refused ;;
	*" 404 "*) echo 404 ;;
	*" 503 "*) echo 503 ;;
	*) echo "other: $o" ;;
	esac
}
wait_up() {
	i=0
	while [ $i -lt 20 ]; do
		get "$1" $T/up.out 2>/dev/null && return 0
		sleep 0.5; i=$((i + 1))
	done
	return 1
}
# wait_exit PID: wait up to 10 s for the daemon to exit; sets rc to its
# exit status, or to "still running" (then kills it: nothing may linger)
wait_exit() {
	i=0
	while [ $i -lt 20 ] && kill -0 $1 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
	if kill -0 $1 2>/dev/null; then
		kill -9 $1; wait $1; rc="still running"
	else
		wait $1; rc=$?
	fi
}

cat >$T/tux.toml <<EOF
docroot = "/srv/www"
listen = "::"
port = 80
threads = $N
log_file = "$LOG"

[[modules]]
prefix = "/hello"
kind = "hello"

[[modules]]
prefix = "/api/info"
kind = "json"
EOF
tux -c $T/tux.toml check >$T/check.out 2>&1 || { cat $T/check.out; fail "tux check refused a valid configuration"; }

# A running TUX: `run` without --attach is refused and must not touch the
# running server's settings (a config with another port must not move it).
get / $T/index.html || fail "not serving before the test"
sed 's/^port = 80$/port = 8081/' $T/tux.toml >$T/other-port.toml
timeout 10 tux -c $T/other-port.toml run >$T/busy.out 2>&1 && fail "tux run succeeded while TUX was already running"
grep -q 'attach' $T/busy.out || { cat $T/busy.out; fail "tux run on a running TUX does not point to --attach"; }
[ "$(cat $S/port)" = 80 ] || { echo 80 >$S/port; fail "a refused tux run changed port to $(cat $S/port)"; }
get / $T/x.out || fail "a refused tux run disturbed the running server"

# --attach: modules only; TUX keeps running after SIGTERM.
tux -c $T/tux.toml run --attach >$T/daemon.log 2>&1 &
dpid=$!
up_or_fail /hello "tux run --attach"
grep -q 'Hello from a tux user module' $T/up.out || fail "tux run --attach: wrong /hello body"
kill -TERM $dpid; wait_exit $dpid; dpid=
[ "$rc" = 0 ] || fail "tux run --attach: exit '$rc' after SIGTERM (want 0)"
[ "$(cat $S/running)" = 1 ] || fail "tux run --attach stopped TUX on exit"
[ "$(status_of /hello)" = 404 ] || fail "after --attach exited, GET /hello is $(status_of /hello), want 404"

# tux stop / tux status on a stopped server
tux stop >$T/stop.out 2>&1 || { cat $T/stop.out; fail "tux stop failed"; }
tux status >$T/status.out 2>&1; rc=$?
[ $rc = 3 ] || { cat $T/status.out; fail "tux status exit $rc on a stopped server (want 3)"; }
grep -q '^stopped' $T/status.out || { cat $T/status.out; fail "tux status does not say stopped"; }
tux stop >$T/stop.out 2>&1 && fail "tux stop on a stopped server succeeded"

# tux run: start, serve
tux -c $T/tux.toml run >$T/daemon.log 2>&1 &
dpid=$!
up_or_fail /hello "tux run"
grep -q 'Hello from a tux user module' $T/up.out || fail "tux run: wrong /hello body"
get /api/info $T/j1.out || fail "tux run: GET /api/info failed"
get /api/info $T/j2.out || fail "tux run: second GET /api/info failed"
n1=$(sed -n 's/^{"requests":\([0-9]*\),.*"path":"\/api\/info"}$/\1/p' $T/j1.out)
n2=$(sed -n 's/^{"requests":\([0-9]*\),.*"path":"\/api\/info"}$/\1/p' $T/j2.out)
[ -n "$n1" ] && [ "$n2" = $((n1 + 1)) ] || { cat $T/j1.out $T/j2.out; fail "tux run: /api/info JSON or its counter is wrong"; }
get / $T/s.out || fail "tux run: static GET failed"
cmp -s $T/s.out $T/index.html || fail "tux run: static file differs"

tux status >$T/status.out 2>&1; rc=$?
[ $rc = 0 ] || { cat $T/status.out; fail "tux status exit $rc while running (want 0)"; }
grep -q '^running: \[::\]:80, documentroot /srv/www' $T/status.out || { cat $T/status.out; fail "tux status does not say running on [::]:80"; }
grep -q 'ABI [0-9]*\.[0-9]*\.[0-9]* (compatible' $T/status.out || { cat $T/status.out; fail "tux status shows no compatible ABI version"; }
tux stats >$T/stats.out 2>&1 || fail "tux stats failed"
grep -q '^running 1$' $T/stats.out || { cat $T/stats.out; fail "tux stats: no 'running 1'"; }
grep -Eq '^module_requests [1-9][0-9]*$' $T/stats.out || { cat $T/stats.out; fail "tux stats: module_requests is not counted"; }
grep -Eq '^requests [1-9][0-9]*$' $T/stats.out || { cat $T/stats.out; fail "tux stats: no request counter"; }
tux version >$T/version.out 2>&1 && grep -q '^kernel tux(2) ABI ' $T/version.out || { cat $T/version.out; fail "tux version does not show the kernel ABI"; }

# The access log reaches log_file (drained once a second).
i=0
while [ $i -lt 10 ] && ! grep -q '"GET /api/info ' $LOG 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
grep -q '"GET /api/info HTTP/1.[01]" 200 ' $LOG || { cat $LOG 2>/dev/null; fail "access log $LOG has no line for GET /api/info"; }
grep -q '"GET /hello HTTP/1.[01]" 200 ' $LOG || fail "access log has no line for GET /hello"

# Rotation: move the file away, SIGHUP, new lines go to a new file.
mv $LOG $LOG.1
kill -HUP $dpid
i=0
while [ $i -lt 10 ] && [ ! -e $LOG ]; do sleep 0.5; i=$((i + 1)); done
[ -e $LOG ] || fail "SIGHUP did not reopen $LOG"
kill -0 $dpid 2>/dev/null || fail "the daemon died on SIGHUP"
get '/hello?after-hup' $T/h.out || fail "GET /hello failed after SIGHUP"
i=0
while [ $i -lt 10 ] && ! grep -q 'after-hup' $LOG; do sleep 0.5; i=$((i + 1)); done
grep -q '"GET /hello?after-hup ' $LOG || fail "after SIGHUP, new lines do not reach the new $LOG"
grep -q 'after-hup' $LOG.1 && fail "after SIGHUP, new lines still go to the moved file"

# SIGTERM: exit 0, TUX shut down; started again by hand, the prefixes are free.
kill -TERM $dpid; wait_exit $dpid; dpid=
[ "$rc" = 0 ] || fail "tux run: exit '$rc' after SIGTERM (want 0)"
tux status >$T/status.out 2>&1; rc=$?
[ $rc = 3 ] && grep -q '^stopped' $T/status.out || { cat $T/status.out; fail "after SIGTERM, tux status says (exit $rc) not stopped"; }
[ "$(status_of /)" = refused ] || fail "after SIGTERM the server still accepts connections"
echo 1 >$S/running || fail "cannot start TUX again after the daemon"
[ "$(status_of /hello)" = 404 ] || fail "after the daemon, GET /hello is $(status_of /hello), want 404"
[ "$(status_of /api/info)" = 404 ] || fail "after the daemon, GET /api/info is not 404"
echo 0 >$S/running

# Start/stop/restart three times, serving each time.
for round in 1 2 3; do
	tux -c $T/tux.toml run >$T/daemon.log 2>&1 &
	dpid=$!
	up_or_fail /hello "round $round"
	get /api/info $T/j.out || fail "round $round: GET /api/info failed"
	get / $T/s.out || fail "round $round: static GET failed"
	kill -TERM $dpid; wait_exit $dpid; dpid=
	[ "$rc" = 0 ] || fail "round $round: exit '$rc' after SIGTERM"
	grep -q panicked $T/daemon.log && fail "round $round: the daemon panicked"
done
echo 1 >$S/running || fail "cannot restart TUX after the rounds"
get / $T/s.out || fail "not serving after the rounds"
[ "$(status_of /hello)" = 404 ] || fail "after the rounds, GET /hello is $(status_of /hello): a module was left registered"
# Nothing left: the hello example can take /hello.
hello >$T/hello.log 2>&1 &
hpid=$!
wait_up /hello || { end $hpid; fail "hello could not take /hello after the daemon rounds"; }
end $hpid

# Bad configurations: non-zero exit, the key named, no panic, server untouched.
printf 'docroot = "/srv/www"\nthreadz = 2\n' >$T/bad1.toml
printf 'docroot = "/srv/www"\nthreads = 0\n' >$T/bad2.toml
printf '[[modules]]\nprefix = "/x"\nkind = "php"\n' >$T/bad3.toml
for b in 'bad1:threadz' 'bad2:threads = 0' 'bad3:modules\[0\]\.kind'; do
	f=${b%%:*}; key=${b#*:}
	for cmd in check run; do
		timeout 10 tux -c $T/$f.toml $cmd >$T/$f.$cmd.out 2>&1; rc=$?
		[ $rc != 0 ] && [ $rc != 124 ] || { cat $T/$f.$cmd.out; fail "tux $cmd with $f.toml: exit $rc (want non-zero, prompt)"; }
		grep -q "$key" $T/$f.$cmd.out || { cat $T/$f.$cmd.out; fail "tux $cmd with $f.toml does not name the key"; }
		grep -q panicked $T/$f.$cmd.out && fail "tux $cmd with $f.toml panicked"
	done
done
timeout 5 tux -c /nonexistent.toml run >$T/nofile.out 2>&1 && fail "tux run without a config file succeeded"
grep -q '/nonexistent.toml' $T/nofile.out || { cat $T/nofile.out; fail "a missing config file is not named"; }
[ "$(cat $S/running)" = 1 ] || fail "a bad configuration stopped TUX"
get / $T/s.out || fail "not serving after the bad configurations"

restore
get / $T/s.out || fail "not serving at the end"
echo "daemon ok"
