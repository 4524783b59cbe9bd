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
# A module may also own a file extension: every path ending in .hi.
hello 1 '*.hi' >/tmp/hello-ext.log 2>&1 &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	timeout 5 wget -q -O /tmp/e.out http://127.0.0.1/some/dir/page.hi 2>/dev/null && break
	sleep 0.5
done
grep -q 'Hello from a tux user module' /tmp/e.out 2>/dev/null || { cat /tmp/hello-ext.log; echo "GET /some/dir/page.hi not answered by the *.hi module"; kill $pid; exit 1; }
if timeout 5 wget -q -O /tmp/e2.out http://127.0.0.1/page.hix 2>/dev/null; then echo "/page.hix answered: the extension route is too wide"; kill $pid; exit 1; fi
kill $pid; wait $pid
# Classic TUX's trigger: a module name stands for the file of that name at
# the top of the docroot, and only while that file may be served.
hello 1 classic.tux >/tmp/hello-classic.log 2>&1 &
pid=$!
sleep 2
if timeout 5 wget -q -O /tmp/c.out http://127.0.0.1/classic.tux 2>/dev/null; then echo "classic.tux answered without its file"; kill $pid; exit 1; fi
echo "module file" >/srv/www/classic.tux; chmod 644 /srv/www/classic.tux
timeout 5 wget -q -O /tmp/c.out http://127.0.0.1/classic.tux || { cat /tmp/hello-classic.log; echo "GET /classic.tux failed with its file"; kill $pid; exit 1; }
grep -q 'Hello from a tux user module' /tmp/c.out || { cat /tmp/c.out; echo "classic.tux not answered by the module"; kill $pid; exit 1; }
chmod 600 /srv/www/classic.tux
if timeout 5 wget -q -O /tmp/c.out http://127.0.0.1/classic.tux 2>/dev/null; then echo "classic.tux answered with a private file"; kill $pid; exit 1; fi
rm -f /srv/www/classic.tux
kill $pid; wait $pid
