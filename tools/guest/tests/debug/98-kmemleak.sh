#!/bin/sh
# Debug kernel only: after the whole run, and with the server stopped,
# kmemleak finds no unreferenced object allocated since the tests began
# (the guest init cleared the boot-time objects).
K=/sys/kernel/debug/kmemleak
[ -e $K ] || { echo "$K missing: not a kmemleak kernel"; exit 1; }
# Objects must be unreferenced across scans older than a few seconds.
echo scan >$K; sleep 6; echo scan >$K
if [ -s $K ]; then cat $K | head -n 60; echo "kmemleak reports leaks (see above)"; exit 1; fi
