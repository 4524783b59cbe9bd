#!/bin/sh
# The host's requests (logging was switched on for them) are in the access
# log in Combined Log Format, IPv4 and IPv6 clients; reading drains it.
# The host phase saved the log after its IPv4 suite (the ring is about full
# after one), then ran the suite again over IPv6.
cat /tmp/access-ipv4.log /proc/net/tux/log >/tmp/access.log
lines=$(wc -l </tmp/access.log)
echo "$lines lines"; head -n 3 /tmp/access.log
[ "$lines" -gt 100 ] || { echo "only $lines lines in /proc/net/tux/log"; exit 1; }
grep -qE '^10\.0\.2\.2 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET /1k\.bin HTTP/1\.1" 200 1024 "-" "-"$' /tmp/access.log ||
	{ echo "no CLF line for GET /1k.bin"; exit 1; }
grep -qE '" 400 [0-9]+ "-" "-"$' /tmp/access.log || { echo "no line for a 400"; exit 1; }
# The host's IPv6 suite (through passt, from the host's ::1) is logged with
# an IPv6 client in RFC 5952 text.
awk '{ print $1 }' /tmp/access.log | sort | uniq -c
grep -qE '^[0-9a-f]*:[0-9a-f:]+ - - \[[^]]+\] "GET /1k\.bin HTTP/1\.1" 200 1024 "-" "-"$' /tmp/access.log ||
	{ echo "no CLF line for GET /1k.bin from an IPv6 client"; exit 1; }
if grep -q '[^[:print:]]' /tmp/access.log; then echo "unescaped bytes in the log"; exit 1; fi
[ -z "$(cat /proc/net/tux/log)" ] || { echo "a second read is not empty: reads do not drain"; exit 1; }
