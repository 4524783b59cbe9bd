#!/bin/sh
# TUX serves only what an unprivileged user could read along the whole path:
# a world-readable file inside a 0700 directory is not served (403), one in a
# 0711 directory (a user's public directory) is, and so is one after the
# 0700 directory becomes 0755.
D=/srv/www/permtest
cleanup() { rm -rf $D; }
trap cleanup EXIT
status() {
	out=$(timeout 5 wget -q -O /dev/null "http://127.0.0.1/$1" 2>&1) && { echo 200; return; }
	echo "$out" | grep -o 'HTTP/1.1 [0-9]*' | cut -d' ' -f2
}
mkdir -p $D/private $D/public && chmod 0755 $D || exit 1
echo secret >$D/private/f.txt && echo public >$D/public/f.txt && chmod 0644 $D/private/f.txt $D/public/f.txt
chmod 0700 $D/private && chmod 0711 $D/public
s=$(status permtest/private/f.txt)
[ "$s" = 403 ] || { echo "a file in a 0700 directory: status '$s', want 403"; exit 1; }
s=$(status permtest/public/f.txt)
[ "$s" = 200 ] || { echo "a file in a 0711 directory: status '$s', want 200"; exit 1; }
chmod 0755 $D/private
# The cache holds no negative entries: the change is seen at once.
s=$(status permtest/private/f.txt)
[ "$s" = 200 ] || { echo "after chmod 0755: status '$s', want 200"; exit 1; }
echo "path permissions ok"
