#!/bin/sh
# The subsystem initialised at boot and printed its version banner.
dmesg | grep -E 'tux: TUX [0-9]+\.[0-9]+\.[0-9]+ in-kernel HTTP server' && exit 0
echo "no TUX banner in dmesg"; exit 1
