#!/bin/sh
# The object cache follows file changes: rewrite in place, replace by rename,
# chmod and unlink are all seen by the very next request.
f=/srv/www/coherence.txt
get() { timeout 5 wget -q -O /tmp/coh.out http://127.0.0.1/coherence.txt 2>/tmp/coh.err; }
expect() { # expect WHAT CONTENT
	get || { echo "$1: request failed: $(cat /tmp/coh.err)"; exit 1; }
	[ "$(cat /tmp/coh.out)" = "$2" ] || { echo "$1: got '$(cat /tmp/coh.out)', want '$2'"; exit 1; }
}
status() { timeout 5 wget -q -O /dev/null http://127.0.0.1/coherence.txt 2>&1 | grep -o 'HTTP/1.1 [0-9]*' | cut -d' ' -f2; }
echo one >$f && chmod 644 $f
expect first one
expect cached one
echo two-longer >$f
expect rewritten two-longer
echo three >/srv/www/.coh.tmp && chmod 644 /srv/www/.coh.tmp && mv /srv/www/.coh.tmp $f
expect renamed three
chmod 600 $f
[ "$(status)" = 403 ] || { echo "after chmod 600: status $(status), want 403"; exit 1; }
rm $f
[ "$(status)" = 404 ] || { echo "after rm: status $(status), want 404"; exit 1; }
