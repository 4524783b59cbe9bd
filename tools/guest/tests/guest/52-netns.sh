#!/bin/sh
# tux-test-timeout: 600
# Network namespaces: each runs its own TUX.
# - Two new namespaces serve different document roots on port 80 at once,
#   while the initial one's server keeps serving /srv/www; each sees its own
#   /proc/sys/net/tux and /proc/net/tux.
# - A namespace whose last process is killed while wrk runs against its
#   server (from inside, and from the initial namespace over a veth pair):
#   the server stops by itself, and the namespace's TUX state goes with the
#   namespace ("namespaces" in the initial /proc/net/tux/stats).
# - A new user namespace's root may not start its namespace's server unless
#   net.tux.userns_control is 1.
# - The daemon run in a namespace serves its module there only; killed
#   with its module threads blocked in tux(2) under load, the namespace
#   goes as above.
# - tux(2) from a namespace acts on that namespace (tuxnetns).
S=/proc/sys/net/tux
fail=0
bad() { echo "FAIL: $*"; fail=1; }
command -v tuxnetns >/dev/null 2>&1 || { echo "tuxnetns is not installed in the guest"; exit 1; }
[ -e /proc/self/ns/net ] || { echo "no network namespaces in this kernel (CONFIG_NET_NS)"; exit 1; }
slow=1
[ -e /sys/kernel/debug/kmemleak ] && slow=10
stat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tux/stats; }
base=$(stat_of namespaces)
[ -n "$base" ] || bad "no namespaces line in /proc/net/tux/stats"
W=/tmp/netns
rm -rf $W && mkdir -p $W/d1 $W/d2 $W/d3 && chmod 755 $W $W/d1 $W/d2 $W/d3
for i in 1 2 3; do echo "namespace $i" >$W/d$i/index.html; done
chmod 644 $W/d*/index.html

# serve N: in a new network namespace, serve $W/dN on port 80, say so in
# $W/upN, check its own pages until $W/go exists, and report in $W/resN.
serve() {
	unshare -n sh -c '
		n=$1 W=$2 S=/proc/sys/net/tux
		ip link set lo up
		[ -e $S/running ] || { echo "no $S in the namespace" >$W/res$n; exit; }
		[ "$(cat $S/running)" = 0 ] || { echo "a new namespace starts with a running server" >$W/res$n; exit; }
		[ "$(cat $S/documentroot)" = /srv/www ] || { echo "defaults: documentroot $(cat $S/documentroot)" >$W/res$n; exit; }
		echo $W/d$n >$S/documentroot && echo 1 >$S/running ||
			{ echo "cannot start: $?" >$W/res$n; exit; }
		grep -q "^running 1" /proc/net/tux/stats || { echo "its /proc/net/tux/stats: not running" >$W/res$n; exit; }
		touch $W/up$n
		while [ ! -e $W/go ]; do sleep 0.1; done
		got=$(timeout 10 wget -q -O - http://127.0.0.1/)
		[ "$got" = "namespace $n" ] || { echo "got \"$got\" from its own server" >$W/res$n; exit; }
		r=$(awk "\$1 == \"requests\" { print \$2 }" /proc/net/tux/stats)
		[ "$r" = 1 ] || { echo "its requests counter is $r, not 1" >$W/res$n; exit; }
		echo ok >$W/res$n
	' sh "$1" $W
}
serve 1 &
serve 2 &
t=0
while [ ! -e $W/up1 ] || [ ! -e $W/up2 ]; do
	sleep 0.2; t=$((t + 1))
	[ $t -lt $((100 * slow)) ] || break
done
[ -e $W/up1 ] && [ -e $W/up2 ] || bad "the namespaces' servers did not start: $(cat $W/res1 $W/res2 2>/dev/null)"
timeout 10 wget -q -O $W/init.got http://127.0.0.1/index.html && cmp -s $W/init.got /srv/www/index.html ||
	bad "the initial namespace's server did not serve /index.html while two others ran"
r=$(stat_of namespaces)
[ "$r" -ge $((base + 2)) ] 2>/dev/null || bad "namespaces $r with two more running (was $base)"
touch $W/go
wait
for i in 1 2; do
	r=$(cat $W/res$i 2>/dev/null)
	[ "$r" = ok ] && echo "namespace $i served its own document root" || bad "namespace $i: ${r:-no result}"
done

# Under load: wrk and the server in one namespace, all killed at once.
unshare -n sh -c '
	W=$1 S=/proc/sys/net/tux
	ip link set lo up
	echo $W/d3 >$S/documentroot && echo 1 >$S/running || exit
	touch $W/up3
	exec wrk -t 2 -c 50 -d 600s http://127.0.0.1:80/index.html >/dev/null 2>&1
' sh $W &
pid=$!
t=0
while [ ! -e $W/up3 ] && [ $t -lt $((100 * slow)) ]; do sleep 0.2; t=$((t + 1)); done
[ -e $W/up3 ] || bad "the third namespace's server did not start"
# The daemon in a namespace, its module threads blocked in tux(2) under
# load, and all of it killed at once too.
cat >$W/tux.toml <<EOF
docroot = "$W/d1"
listen = "::"
port = 80
threads = 2

[[modules]]
prefix = "/hello"
kind = "hello"
EOF
unshare -n sh -c '
	W=$1
	ip link set lo up
	tux -c $W/tux.toml run >$W/daemon.log 2>&1 &
	echo $! >$W/dpid
	i=0
	while [ $i -lt 60 ] && ! timeout 5 wget -q -O $W/hello.got http://127.0.0.1/hello 2>/dev/null; do
		sleep 0.5; i=$((i + 1))
	done
	tux status >$W/status.out 2>&1
	touch $W/up4
	exec wrk -t 1 -c 8 -d 600s http://127.0.0.1:80/hello >/dev/null 2>&1
' sh $W &
pid4=$!
t=0
while [ ! -e $W/up4 ] && [ $t -lt $((200 * slow)) ]; do sleep 0.2; t=$((t + 1)); done
grep -q 'Hello from a tux user module' $W/hello.got 2>/dev/null ||
	bad "the daemon in a namespace did not serve /hello: $(tail -n 2 $W/daemon.log 2>/dev/null)"
grep -q '^running' $W/status.out 2>/dev/null || bad "tux status in the namespace: $(cat $W/status.out 2>/dev/null)"
out=$(timeout 5 wget -q -O /dev/null http://127.0.0.1/hello 2>&1) &&
	bad "the initial namespace's server answered /hello, a module of another namespace"
echo "$out" | grep -q ' 404 ' || bad "GET /hello in the initial namespace: $out"
[ "$(cat $S/running)" = 1 ] || bad "the daemon in a namespace stopped the initial one's server"
sleep $((2 * slow))
# Both are under load: their own counters say so (read from inside).
in_ns() { nsenter -t "$1" -n awk -v k="$2" '$1 == k { print $2 }' /proc/net/tux/stats; }
r=$(in_ns $pid requests)
[ "${r:-0}" -gt 0 ] || bad "the third namespace's server answered ${r:-no} requests under wrk"
r=$(in_ns $pid4 module_requests)
[ "${r:-0}" -gt 0 ] || bad "the daemon's namespace queued ${r:-no} module requests under wrk"
kill -9 $pid $pid4 $(cat $W/dpid 2>/dev/null) 2>/dev/null
wait $pid $pid4 2>/dev/null
# Deleted under load from outside: a fifth namespace reached over a veth
# pair, wrk running from the initial one when the namespace's last process
# is killed. Its server stops with connections in flight.
if ip link add tuxv0 type veth 2>/dev/null; then
	unshare -n sh -c '
		W=$1
		while [ ! -e $W/v5 ]; do sleep 0.1; done
		ip link set lo up && ip addr add 10.99.0.2/24 dev veth0 && ip link set veth0 up &&
			echo $W/d3 >/proc/sys/net/tux/documentroot && echo 1 >/proc/sys/net/tux/running &&
			touch $W/up5
		exec sleep 600
	' sh $W &
	pid5=$!
	t=0
	while [ "$(readlink /proc/$pid5/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $t -lt 50 ]; do
		sleep 0.1; t=$((t + 1))
	done
	ip link set veth0 netns $pid5 && touch $W/v5 &&
		ip addr add 10.99.0.1/24 dev tuxv0 && ip link set tuxv0 up || bad "cannot set up the veth pair"
	t=0
	while [ ! -e $W/up5 ] && [ $t -lt $((100 * slow)) ]; do sleep 0.2; t=$((t + 1)); done
	got=$(timeout 10 wget -q -O - http://10.99.0.2/)
	[ "$got" = "namespace 3" ] || bad "over the veth pair: got \"$got\""
	wrk -t 1 -c 16 -d $((4 * slow))s --timeout 5s http://10.99.0.2:80/index.html >$W/wrk5.out 2>&1 &
	wpid=$!
	sleep $slow
	kill -9 $pid5
	wait $pid5 2>/dev/null
	wait $wpid
	reqs=$(awk '/requests in/ { print $1 }' $W/wrk5.out)
	if [ "${reqs:-0}" -gt 0 ]; then
		echo "namespace 5 killed under load from the initial one ($reqs requests answered)"
	else
		bad "wrk over the veth pair: $(tail -n 3 $W/wrk5.out)"
	fi
else
	bad "no veth in this kernel (CONFIG_VETH)"
fi
# Every namespace made here is gone once TUX let go of it.
t=0
while [ "$(stat_of namespaces)" != "$base" ] && [ $t -lt $((150 * slow)) ]; do
	sleep 0.2; t=$((t + 1))
done
r=$(stat_of namespaces)
[ -n "$r" ] && [ "$r" = "$base" ] && echo "the namespaces went, TUX state and all ($r left)" ||
	bad "namespaces $r, not $base, $((t / 5)) s after their last process went"
dmesg | grep -q "stopped: its network namespace is gone" || bad "no server stopped for a gone namespace"

# A user namespace's root: refused by default, allowed by userns_control=1.
if [ -e /proc/self/ns/user ]; then
	echo 0 >$S/userns_control
	out=$(unshare -U -r -n sh -c 'ip link set lo up; echo 1 >/proc/sys/net/tux/running' 2>&1) &&
		bad "a user namespace's root started its server with userns_control=0"
	echo "$out" | grep -qi 'not permitted' || bad "userns_control=0: $out"
	echo 1 >$S/userns_control
	out=$(unshare -U -r -n sh -c '
		ip link set lo up
		echo '"$W"'/d2 >/proc/sys/net/tux/documentroot && echo 1 >/proc/sys/net/tux/running &&
			timeout 10 wget -q -O - http://127.0.0.1/' 2>&1)
	[ "$out" = "namespace 2" ] || bad "userns_control=1: a user namespace's root got \"$out\""
	echo 0 >$S/userns_control
else
	bad "no user namespaces in this kernel (CONFIG_USER_NS)"
fi

# tux(2) acts on the caller's namespace.
tuxnetns || fail=1
[ "$(cat $S/running)" = 1 ] || bad "the initial namespace's server stopped"
timeout 10 wget -q -O /tmp/netns.got http://127.0.0.1/ && cmp -s /tmp/netns.got /srv/www/index.html ||
	bad "the initial namespace's server does not serve /"
[ $fail = 0 ] && echo "each network namespace runs its own TUX"
exit $fail
