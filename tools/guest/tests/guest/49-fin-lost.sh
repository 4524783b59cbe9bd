#!/bin/sh
# A FIN that TUX sends when it closes after the client's FIN (LAST_ACK) and
# that is lost must be sent again: the socket keeps its retransmission timer
# and goes once the FIN is acknowledged. finlost (tools/guest/tuxcall)
# drops the FIN on the client's side, checks the timer, then lets the
# retransmission through. Without the timer the socket stays in LAST_ACK
# for good: the "LAST_ACK orphans" of Documentation/tux/hardening.rst.
command -v finlost >/dev/null 2>&1 || { echo "finlost is not installed in the guest"; exit 1; }
for i in 1 2 3; do
	finlost 80 || exit 1
done
echo "lost FINs are sent again"
