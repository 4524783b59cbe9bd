#!/bin/sh
# User networking is up: eth0 has the address QEMU's DHCP range expects.
ip addr show eth0 | grep -q 'inet 10.0.2.15/24' || { echo "eth0 has no 10.0.2.15/24"; ip addr; exit 1; }
ip route | grep -q 'default via 10.0.2.2' || { echo "no default route"; exit 1; }
