#!/bin/sh
# The server stops and starts through /proc/sys/net/tux/running; a bad
# document root makes the start fail with an error and leaves it stopped.
S=/proc/sys/net/tux
get() { timeout 5 wget -q -O /tmp/get.out http://127.0.0.1/; }
refused() { timeout 5 wget -q -O /tmp/get.out http://127.0.0.1/ 2>&1 | grep -q 'refused'; }
get || { echo "not serving before the test"; exit 1; }
echo 0 >$S/running || { echo "stop failed"; exit 1; }
[ "$(cat $S/running)" = 0 ] || { echo "running is not 0 after stop"; exit 1; }
refused || { echo "connection not refused after stop"; exit 1; }
echo /nonexistent >$S/documentroot
if echo 1 >$S/running 2>/dev/null; then echo "start with a missing docroot succeeded"; exit 1; fi
[ "$(cat $S/running)" = 0 ] || { echo "running is not 0 after a failed start"; exit 1; }
echo /srv/www >$S/documentroot
echo 1 >$S/running || { echo "restart failed"; exit 1; }
get || { echo "not serving after restart"; exit 1; }
grep -q '^running 1$' /proc/net/tux/stats || { echo "stats do not say running"; exit 1; }
