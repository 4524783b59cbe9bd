#!/bin/sh
# Start a throw-away listener on guest port 8081 so the host can check the
# runner's port forwarding (QEMU hostfwd). Test plumbing, not a product.
mkdir -p /tmp/plumbing && cat /proc/sys/kernel/random/boot_id >/tmp/plumbing/boot_id
httpd -p 8081 -h /tmp/plumbing || { echo "busybox httpd failed to start"; exit 1; }
echo "TUX-BOOT-ID $(cat /tmp/plumbing/boot_id)" >/dev/console
