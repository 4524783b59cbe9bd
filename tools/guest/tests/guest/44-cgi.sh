#!/bin/sh
# CGI through the tux daemon's [cgi] section (libtux's CgiModule), attached
# to the running boot server: the RFC 3875 environment, request bodies,
# Status/Location and custom headers, 504 on timeout with the program
# killed, 502 for a program that fails or prints a bad header, output
# capped at max_output, non-executable and traversal paths refused, and the
# programs running as uid/gid 65534.
U=http://127.0.0.1
T=/tmp/t44
C=/srv/cgi-bin
rm -rf $T $C; mkdir -p $T $C
chmod 755 $C
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
fail() {
	[ -n "$dpid" ] && end $dpid
	[ -s $T/daemon.log ] && { echo "== daemon output"; tail -n 10 $T/daemon.log; }
	pkill_ours
	echo "$1"
	exit 1
}
# Leftover CGI processes of this test (by their distinctive command lines).
leftovers() { ps -o pid,user,args 2>/dev/null | grep -E '[s]leeper\.sh|[s]leep 37|[f]lood\.sh|[y]es cgi-flood'; }
pkill_ours() { leftovers | awk '{ print $1 }' | xargs -r kill -9 2>/dev/null; }
# wget_status PATH: "200" or the status in wget's error message
wget_status() {
	o=$(timeout 15 wget -q -O $T/w.out "$U$1" 2>&1) && { echo 200; return; }
	s=$(echo "$o" | sed -n 's/.*HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' | head -n 1)
	echo "${s:-error: $o}"
}
# raw PATH: one HTTP/1.0 request over nc; response in $T/raw.out
raw() {
	{ printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1"; sleep 2; } | timeout 10 nc 127.0.0.1 80 >$T/raw.out 2>&1
	tr -d '\r' <$T/raw.out >$T/raw.txt
}
raw_status() { sed -n '1s/^HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' $T/raw.txt; }

script() { cat >$C/$1; chmod 755 $C/$1; }
script env.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
for v in REQUEST_METHOD QUERY_STRING SCRIPT_NAME PATH_INFO REMOTE_ADDR CONTENT_LENGTH HTTP_X_TEST GATEWAY_INTERFACE; do
	eval "echo $v=\${$v-unset}"
done
EOF
script echo.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
head -c "${CONTENT_LENGTH:-0}"
EOF
script created.sh <<'EOF'
#!/bin/sh
printf 'Status: 201 Created\nX-Cgi-Custom: made-by-cgi\nContent-Type: text/plain\n\ncreated\n'
EOF
script redirect.sh <<'EOF'
#!/bin/sh
printf 'Location: http://127.0.0.1/moved-here\n\n'
EOF
script sleeper.sh <<'EOF'
#!/bin/sh
sleep 37
printf 'Content-Type: text/plain\n\ntoo late\n'
EOF
script fail.sh <<'EOF'
#!/bin/sh
echo "failing on purpose" >&2
exit 1
EOF
script garbage.sh <<'EOF'
#!/bin/sh
printf 'this is not a CGI header\n\nbody\n'
EOF
script flood.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
exec yes cgi-flood-cgi-flood-cgi-flood
EOF
script clflood.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\nContent-Length: 6\n\nhello\n'
exec yes cgi-flood-after-content-length
EOF
script id.sh <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
EOF
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nran\\n"\n' >$C/noexec.sh
chmod 644 $C/noexec.sh
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nran\\n"\n' >$C/ww.sh
chmod 777 $C/ww.sh

# One module thread: this test is about CGI, not threading (42/43 are).
cat >$T/tux.toml <<EOF
threads = 1

[cgi]
prefix = "/cgi-bin"
root = "$C"
uid = 65534
gid = 65534
timeout_secs = 5
max_output = 65536
EOF
timeout 5 wget -q -O $T/index.html $U/ || fail "not serving before the test"
# The programs run as nobody, who must reach them: the initramfs root
# comes from mktemp -d (mode 700), unlike any real system's /.
[ "$(stat -c %a /)" = 755 ] || { echo "note: / was mode $(stat -c %a /), made 755"; chmod 755 /; }
tux -c $T/tux.toml run --attach >$T/daemon.log 2>&1 &
dpid=$!
i=0
while [ $i -lt 20 ] && ! timeout 5 wget -q -O $T/env.out $U/cgi-bin/env.sh 2>$T/env.err; do sleep 0.5; i=$((i + 1)); done
grep -q '^GATEWAY_INTERFACE=CGI/1.1$' $T/env.out 2>/dev/null || { kill -0 $dpid 2>/dev/null || dpid=; fail "GET /cgi-bin/env.sh never answered the environment: $(tail -n 1 $T/env.err)"; }

# The environment
timeout 10 wget -q -O $T/env.out --header 'X-Test: hello-cgi' "$U/cgi-bin/env.sh/extra/path?a=1&b=two" || fail "GET env.sh with PATH_INFO failed"
for want in REQUEST_METHOD=GET 'QUERY_STRING=a=1&b=two' SCRIPT_NAME=/cgi-bin/env.sh PATH_INFO=/extra/path \
	REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=unset HTTP_X_TEST=hello-cgi; do
	grep -qxF "$want" $T/env.out || { cat $T/env.out; fail "CGI environment lacks $want"; }
done
timeout 10 wget -q -O $T/env6.out 'http://[::1]/cgi-bin/env.sh' || fail "GET env.sh over [::1] failed"
grep -qxF REMOTE_ADDR=::1 $T/env6.out || { cat $T/env6.out; fail "CGI over IPv6: REMOTE_ADDR is not ::1"; }
timeout 10 wget -q -O $T/env2.out --post-data 'k=v' $U/cgi-bin/env.sh || fail "POST env.sh failed"
grep -qxF REQUEST_METHOD=POST $T/env2.out && grep -qxF CONTENT_LENGTH=3 $T/env2.out || { cat $T/env2.out; fail "POST: wrong REQUEST_METHOD/CONTENT_LENGTH"; }

# The body on stdin
body='name=tux&msg=hello+world&n=0123456789abcdefghijklmnopqrstuvwxyz'
timeout 10 wget -q -O $T/echo.out --post-data "$body" $U/cgi-bin/echo.sh || fail "POST echo.sh failed"
[ "$(cat $T/echo.out)" = "$body" ] || { cat $T/echo.out; echo; fail "echo.sh did not get the request body on stdin"; }
head -c 20000 /dev/urandom | base64 -w 0 >$T/big.txt
timeout 10 wget -q -O $T/echo-big.out --post-file $T/big.txt $U/cgi-bin/echo.sh || fail "POST of a 27 kB body to echo.sh failed"
cmp -s $T/big.txt $T/echo-big.out || fail "echo.sh returned a different 27 kB body ($(wc -c <$T/echo-big.out) bytes)"

# Status and custom headers; Location
raw /cgi-bin/created.sh
[ "$(raw_status)" = 201 ] || { head -n 5 $T/raw.txt; fail "created.sh: status $(raw_status), want 201"; }
grep -qx 'X-Cgi-Custom: made-by-cgi' $T/raw.txt || { cat $T/raw.txt; fail "created.sh: custom header not passed on"; }
grep -qx 'created' $T/raw.txt || { cat $T/raw.txt; fail "created.sh: body missing"; }
raw /cgi-bin/redirect.sh
[ "$(raw_status)" = 302 ] || { head -n 5 $T/raw.txt; fail "redirect.sh: status $(raw_status), want 302"; }
grep -qx 'Location: http://127.0.0.1/moved-here' $T/raw.txt || { cat $T/raw.txt; fail "redirect.sh: no Location"; }

# uid/gid drop
timeout 10 wget -q -O $T/id.out $U/cgi-bin/id.sh || fail "GET id.sh failed"
grep -qx 'uid=65534 gid=65534 groups=65534' $T/id.out || { cat $T/id.out; fail "CGI did not run as 65534:65534 only"; }

# Failures: 502
s=$(wget_status /cgi-bin/fail.sh); [ "$s" = 502 ] || fail "fail.sh (exit 1, no header): $s, want 502"
s=$(wget_status /cgi-bin/garbage.sh); [ "$s" = 502 ] || fail "garbage.sh (bad header): $s, want 502"
# Refused programs and paths
s=$(wget_status /cgi-bin/noexec.sh); [ "$s" = 403 ] || [ "$s" = 404 ] || fail "non-executable noexec.sh: $s, want 403/404"
grep -q '^ran$' $T/w.out && fail "non-executable noexec.sh ran"
s=$(wget_status /cgi-bin/ww.sh); [ "$s" = 403 ] || fail "world-writable ww.sh: $s, want 403"
s=$(wget_status /cgi-bin/missing.sh); [ "$s" = 404 ] || fail "missing.sh: $s, want 404"
for p in /cgi-bin/../etc/passwd /cgi-bin/../../etc/passwd /cgi-bin/%2e%2e/%2e%2e/etc/passwd \
	/cgi-bin/..%2f..%2fetc/passwd /cgi-bin/.%2e/.%2e/bin/sh; do
	raw "$p"
	st=$(raw_status)
	case $st in 4??) ;; *) head -n 3 $T/raw.txt; fail "traversal $p: status '${st}', want 4xx" ;; esac
	grep -q 'root:x:0:0' $T/raw.txt && fail "traversal $p leaked /etc/passwd"
done

# Timeout: 504 after timeout_secs (5 s), the program and its child killed.
start=$(date +%s)
s=$(wget_status /cgi-bin/sleeper.sh)
took=$(( $(date +%s) - start ))
[ "$s" = 504 ] || fail "sleeper.sh: $s, want 504"
[ $took -ge 4 ] && [ $took -le 10 ] || fail "sleeper.sh: 504 after ${took}s, want about 5 s"
i=0
while [ $i -lt 10 ] && leftovers | grep -q .; do sleep 0.5; i=$((i + 1)); done
leftovers | grep -q . && { leftovers; fail "sleeper.sh (or its sleep) still runs after the 504"; }

# Flood beyond max_output: cut (closed or 502), promptly, program killed.
start=$(date +%s)
timeout 20 wget -q -O $T/flood.out $U/cgi-bin/flood.sh >/dev/null 2>&1
took=$(( $(date +%s) - start ))
n=$(wc -c <$T/flood.out)
[ $took -le 8 ] || fail "flood.sh took ${took}s"
[ "$n" -le 65536 ] || fail "flood.sh: client got $n bytes, more than max_output 65536"
i=0
while [ $i -lt 10 ] && leftovers | grep -q .; do sleep 0.5; i=$((i + 1)); done
leftovers | grep -q . && { leftovers; fail "flood.sh still runs after the cap"; }

# More output than the program's own Content-Length: the answer is
# complete at 6 bytes; the program is stopped then, not at the timeout.
start=$(date +%s)
timeout 20 wget -q -O $T/clflood.out $U/cgi-bin/clflood.sh || fail "clflood.sh: GET failed"
took=$(( $(date +%s) - start ))
[ "$(cat $T/clflood.out)" = hello ] || { head -c 100 $T/clflood.out; fail "clflood.sh: body is not the 6 announced bytes"; }
[ $took -le 2 ] || fail "clflood.sh: answered after ${took}s: output past Content-Length was read until the 5 s timeout"
i=0
while [ $i -lt 10 ] && leftovers | grep -q .; do sleep 0.5; i=$((i + 1)); done
leftovers | grep -q . && { leftovers; fail "clflood.sh still runs after its answer"; }

# Still serving: static and CGI; the daemon alive.
timeout 5 wget -q -O $T/s.out $U/ || fail "static GET failed after the CGI failures"
cmp -s $T/s.out $T/index.html || fail "static file differs after the CGI tests"
timeout 10 wget -q -O $T/env3.out $U/cgi-bin/env.sh || fail "CGI failed after the failure tests"
kill -0 $dpid 2>/dev/null || fail "the daemon died during the CGI tests"
grep -q panicked $T/daemon.log && fail "the daemon panicked"

# Stop: exit 0, /cgi-bin gone (404), TUX still running.
kill -TERM $dpid
i=0
while [ $i -lt 20 ] && kill -0 $dpid 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
kill -0 $dpid 2>/dev/null && fail "the daemon still runs 10 s after SIGTERM"
wait $dpid; rc=$?; dpid=
[ $rc = 0 ] || fail "the daemon exited with $rc after SIGTERM"
s=$(wget_status /cgi-bin/env.sh); [ "$s" = 404 ] || fail "after the daemon exited, /cgi-bin/env.sh: $s, want 404"
rm -rf $C
echo "cgi ok"
