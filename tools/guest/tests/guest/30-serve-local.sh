#!/bin/sh
# TUX serves the document root inside the guest too (loopback), byte for byte.
wget -q -O /tmp/index.got http://127.0.0.1/ || { echo "wget http://127.0.0.1/ failed"; exit 1; }
cmp /tmp/index.got /srv/www/index.html || { echo "body differs from /srv/www/index.html"; exit 1; }
