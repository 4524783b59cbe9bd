#!/bin/sh
# tux(2) from userspace: every action, with good and bad arguments
# (tools/guest/tuxcall). One line per check; fails if any check failed.
command -v tuxcall-test >/dev/null 2>&1 || { echo "tuxcall-test is not installed in the guest"; exit 1; }
tuxcall-test >/tmp/tuxcall.out 2>&1
rc=$?
# Failed checks first (the runner shows the last 20 lines), then the rest.
grep -v '^ok - ' /tmp/tuxcall.out
grep -c '^ok - ' /tmp/tuxcall.out | sed 's/$/ checks passed/'
if [ $rc != 0 ]; then
	# The runner reports the last line: name the failed checks there.
	failed=$(grep '^not ok - ' /tmp/tuxcall.out | sed 's/^not ok - //; s/:.*//' | head -n 5 | tr '\n' ';')
	echo "tuxcall-test exit status $rc; failed: ${failed:-none listed}"
fi
exit $rc
