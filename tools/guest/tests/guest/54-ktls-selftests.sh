#!/bin/sh
# tux-test-timeout: 900
# The pinned kernel's own kTLS selftests (tools/testing/selftests/net/tls.c,
# built by tools/test.sh as /usr/bin/ktls-selftests). The series changes
# kTLS: patch 0029 admits a socket in CLOSE_WAIT, patch 0030 allocates the
# transmit record without clearing it twice. These are the tests that know
# kTLS; every one that runs must pass.
#
# They take about 0.4 s each under TCG on the lean kernel (the whole suite:
# 5 minutes) and several seconds on the debug kernel (KASAN, lockdep,
# kmemleak), so not every one runs. On the lean kernel: the
# cipher-independent tests, and the per-cipher ones with AES-GCM (TLS 1.2
# and 1.3, what TUX serves with) and AES-CCM on TLS 1.3 (whose IV carries a
# leading byte). A variant added by a newer kernel runs until listed here.
# On the debug kernel: the transmit-side tests TUX's sends go through
# (sendfile, MSG_MORE, splice, shutdown), TLS 1.3 AES-GCM only.
args=
for v in 12_aes_gcm_256 13_aes_gcm_256 12_chacha 13_chacha 12_aes_ccm 13_nopad \
	13_sm4_gcm 13_sm4_ccm 12_aria_gcm 12_aria_gcm_256; do
	args="$args -V $v"
done
if zcat /proc/config.gz 2>/dev/null | grep -qx 'CONFIG_KASAN=y'; then
	args="$args -V 12_aes_gcm -V 13_aes_ccm"
	for t in sendfile send_then_sendfile multi_chunk_sendfile msg_more msg_more_unsent \
		sendmsg_single sendmsg_large splice_from_pipe splice_more send_and_splice \
		shutdown shutdown_unsent bidir; do
		args="$args -t $t"
	done
fi
out=/tmp/ktls-selftests.log
# shellcheck disable=SC2086 # one word per option
ktls-selftests $args >$out 2>&1
rc=$?
# What failed, with the harness's reason for it.
grep -E '^# .*tls\.c:[0-9]+:|^not ok' $out | head -n 60
summary=$(grep '^# Totals' $out)
echo "ktls-selftests: ${summary#\# }"
[ $rc = 0 ] || { echo "ktls-selftests exited with $rc"; exit 1; }
case $summary in
*" pass:"[1-9]*" fail:0 "*) ;;
*) echo "no test passed, or some failed"; exit 1 ;;
esac
