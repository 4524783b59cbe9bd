#!/bin/sh
# Network namespaces: TUX serves the initial one only. From a new namespace
# there is no net.tux and no /proc/net/tux, and tux(2) answers QUERY_VERSION
# but refuses the rest with EOPNOTSUPP (tools/guest/tuxcall/src/netns.rs).
# The host's server keeps serving throughout.
S=/proc/sys/net/tux
fail=0
command -v tuxnetns >/dev/null 2>&1 || { echo "tuxnetns is not installed in the guest"; exit 1; }
[ -e /proc/self/ns/net ] || { echo "no network namespaces in this kernel (CONFIG_NET_NS)"; exit 1; }
# A refusal that failed would have stopped the server: start it again.
trap 'echo 1 >$S/running' EXIT

tuxnetns >/tmp/netns.out 2>&1 || fail=1
cat /tmp/netns.out
unshare -n sh -c '[ ! -e /proc/net/tux ]' || { echo "/proc/net/tux exists in a new network namespace"; fail=1; }
out=$(unshare -n tux status 2>&1)
rc=$?
echo "$out" | grep -q 'initial network namespace only' && [ $rc = 1 ] ||
	{ echo "tux status in a new namespace (exit $rc): $out"; fail=1; }
[ "$(cat $S/running)" = 1 ] || { echo "the server stopped"; fail=1; }
timeout 10 wget -q -O /tmp/netns.got http://127.0.0.1/ && cmp -s /tmp/netns.got /srv/www/index.html ||
	{ echo "the initial namespace's server does not serve /"; fail=1; }
[ $fail = 0 ] && echo "TUX is confined to the initial network namespace"
exit $fail
