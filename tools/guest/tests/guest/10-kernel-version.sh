#!/bin/sh
# The guest runs the pinned kernel we built.
v=$(uname -r)
case $v in 7.3.4*) exit 0 ;; esac
echo "uname -r is '$v', expected 7.3.4"; exit 1
