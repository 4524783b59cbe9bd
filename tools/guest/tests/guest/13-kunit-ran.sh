#!/bin/sh
# The TUX KUnit suites ran at boot (their results are parsed by the host).
dmesg | grep -qE 'ok [0-9]+ tux_' || { echo "no KTAP result for a tux_* suite in dmesg"; exit 1; }
