#!/bin/sh
# Nothing in the kernel log says the kernel went wrong during the run.
pat='WARNING:|BUG:|Oops|Kernel panic|Call Trace:|general protection|UBSAN:|KASAN:|kmemleak: [0-9]+ new suspected|possible recursive locking|circular locking'
if dmesg | grep -E "$pat"; then
	echo "kernel log has a splat (see above)"; exit 1
fi
