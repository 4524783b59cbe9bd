#!/bin/sh
# A CGI program of the make run guest: GET /cgi-bin/hello.sh?name=you
name=$(printf '%s' "$QUERY_STRING" | sed -n 's/^\(.*&\)\{0,1\}name=\([A-Za-z0-9_-]*\).*/\2/p')
printf 'Content-Type: text/plain\r\n\r\n'
echo "Hello ${name:-world} from a CGI program (pid $$, uid $(id -u))"
echo "REMOTE_ADDR=$REMOTE_ADDR REQUEST_METHOD=$REQUEST_METHOD SCRIPT_NAME=$SCRIPT_NAME"
