#!/bin/sh
# /proc/net/tux/stats counted the host's tests.
cat /proc/net/tux/stats
v() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tux/stats; }
[ "$(v requests)" -gt 100 ] || { echo "requests counter too low: $(v requests)"; exit 1; }
[ "$(v responses_2xx)" -gt 50 ] || { echo "responses_2xx too low"; exit 1; }
[ "$(v responses_4xx)" -gt 10 ] || { echo "responses_4xx too low"; exit 1; }
[ "$(v bytes_sent)" -gt 67108864 ] || { echo "bytes_sent below 64 MiB"; exit 1; }
[ "$(v timeouts)" -gt 0 ] || { echo "no timeout counted (slowloris)"; exit 1; }
