#!/bin/sh
# CONFIG_TUX is built into the running image (not a module).
zcat /proc/config.gz | grep -qx 'CONFIG_TUX=y' || { echo "CONFIG_TUX=y not in /proc/config.gz"; exit 1; }
