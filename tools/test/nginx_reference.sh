#!/usr/bin/env bash
# Validate the black-box HTTP suite against a private nginx instance.
#
#   tools/test/nginx_reference.sh [--port N] [--no-big] [--keep] [-- SUITE-ARGS...]
#
# Builds the fixture (tools/test/fixture.py) in a fresh temp dir, starts
# nginx (/usr/sbin/nginx, not the system service) on 127.0.0.1:PORT with its
# own prefix/config/logs in that dir, runs http_suite.py with
# --server-profile nginx (all groups, vhost included), stops nginx and removes
# the temp dir (unless --keep). Exit status is the suite's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=18080
big=--big
keep=0
nginx=${NGINX:-/usr/sbin/nginx}
suite_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=$2; shift 2 ;;
        --no-big) big=--no-big; shift ;;
        --keep) keep=1; shift ;;
        --) shift; suite_args=("$@"); break ;;
        *) echo "usage: $0 [--port N] [--no-big] [--keep] [-- SUITE-ARGS...]" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/tux-nginx-ref.XXXXXX)
chmod 755 "$work"
root=$work/root
pidfile=$work/nginx.pid
nginx_pid=

cleanup() {
    local rc=$?
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$work/error.log" ]; then
        echo "--- nginx error.log (last 20 lines)" >&2
        tail -n 20 "$work/error.log" >&2
    fi
    if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

python3 "$here/fixture.py" "$root" --manifest "$work/manifest.json" $big

# Workers run as nobody when we are root, so the 0600 root-owned
# private.txt is unreadable (403), as it is for TUX (world-readable check).
user_line=""
if [ "$(id -u)" = 0 ]; then user_line="user nobody nogroup;"; fi
mkdir -p "$work/tmp"

cat >"$work/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
master_process on;
pid $pidfile;
error_log $work/error.log warn;
worker_rlimit_nofile 4096;
events { worker_connections 2048; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30s;
    keepalive_requests 1000;
    # slowloris group: a stalled request head is dropped after 10 s.
    client_header_timeout 10s;
    # limits group: an 8 KiB request line/header buffer makes the 10 KiB URI
    # a 414 and the 64 KiB header a 400 (Request Header Or Cookie Too Large).
    client_header_buffer_size 1k;
    large_client_header_buffers 4 8k;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    # gzip group: precompressed .gz siblings only, no on-the-fly gzip.
    gzip off;
    gzip_static on;
    gzip_vary on;
    # errors group: never follow symlinks (escape, escape_rel -> 403;
    # inside_link is recorded, nginx says 403 too).
    disable_symlinks on;
    autoindex off;
    index index.html;

    server {
        listen 127.0.0.1:$port default_server;
        server_name _;
        root $root;
    }
    # vhost group.
    server {
        listen 127.0.0.1:$port;
        server_name a.example;
        root $root/vhosts/a.example;
    }
    server {
        listen 127.0.0.1:$port;
        server_name b.example;
        root $root/vhosts/b.example;
    }
}
EOF

"$nginx" -t -q -p "$work" -e "$work/error.log" -c "$work/nginx.conf"
"$nginx" -p "$work" -e "$work/error.log" -c "$work/nginx.conf" &
nginx_pid=$!

for _ in $(seq 100); do
    if python3 - "$port" <<'PY' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
PY
    kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx failed to start" >&2; exit 1; }
    sleep 0.1
done

set +e
python3 "$here/http_suite.py" --host 127.0.0.1 --port "$port" \
    --manifest "$work/manifest.json" --server-profile nginx "${suite_args[@]}"
rc=$?
set -e
exit $rc
