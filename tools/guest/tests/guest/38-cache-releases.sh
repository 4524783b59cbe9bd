#!/bin/sh
# The object cache keeps a dentry and an open file per hot object. It must
# not pin them for good: a deleted file's space comes back and a filesystem
# mounted beneath the document root can be unmounted, within a few seconds
# while the server runs (the sweeper drops idle entries) and at once when it
# stops.
S=/proc/sys/net/tux
M=/srv/www/cachetest
cleanup() { umount $M 2>/dev/null; rmdir $M 2>/dev/null; echo 1 >$S/running; }
trap cleanup EXIT
used_kib() { df -k $M | awk 'NR == 2 { print $3 }'; }
# umount_within TRIES WHY: unmount $M, trying every half second; fail with WHY.
umount_within() {
	i=0
	until umount $M 2>/dev/null; do
		i=$((i + 1)); [ $i -lt "$1" ] || { echo "$2"; exit 1; }
		sleep 0.5
	done
}
mkdir -p $M && mount -t tmpfs -o size=64m,mode=0755 tmpfs $M || { echo "cannot mount a tmpfs at $M"; exit 1; }
dd if=/dev/zero of=$M/big.bin bs=1048576 count=32 2>/dev/null && chmod 0644 $M/big.bin
wget -q -O /dev/null http://127.0.0.1/cachetest/big.bin || { echo "big.bin not served"; exit 1; }
rm $M/big.bin
i=0
until [ "$(used_kib)" -lt 1024 ]; do
	i=$((i + 1)); [ $i -lt 20 ] || { echo "a deleted 32 MiB file still holds $(used_kib) KiB after 10 s"; exit 1; }
	sleep 0.5
done
echo "space back after $i half-seconds"
echo hello >$M/small.txt && chmod 0644 $M/small.txt
wget -q -O /dev/null http://127.0.0.1/cachetest/small.txt || { echo "small.txt not served"; exit 1; }
umount_within 20 "umount beneath the document root still busy after 10 s"
echo "unmounted after $i half-seconds"
# Stopping the server releases everything at once.
mount -t tmpfs -o size=4m,mode=0755 tmpfs $M && echo hello >$M/small.txt && chmod 0644 $M/small.txt || exit 1
wget -q -O /dev/null http://127.0.0.1/cachetest/small.txt || { echo "small.txt not served (2)"; exit 1; }
echo 0 >$S/running
umount_within 4 "umount still busy 2 s after the server stopped"
echo "cache releases ok"
