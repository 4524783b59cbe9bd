#!/usr/bin/env bash
# tls-certs.sh DIR: a test CA and server certificates for the HTTPS tests, in DIR
# (made once; delete DIR to make new ones):
#   ca.crt                      the test CA (verify against it)
#   default.{crt,key}           tux.test: the agent's default certificate
#   a.test.{crt,key}, b.test.{crt,key}   two virtual hosts, chosen by SNI
# ECDSA P-256 keys in PKCS#8; certificates valid for ten years from today,
# with subjectAltName (clients ignore the CN).
set -euo pipefail
dir=$1
[ -f "$dir/b.test.crt" ] && exit 0
command -v openssl >/dev/null || { echo "openssl is missing: run 'make deps'" >&2; exit 1; }
tmp=$dir.tmp
rm -rf "$tmp" && mkdir -p "$tmp"
cd "$tmp"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=tux test CA" -days 3650 -sha256 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out ca.crt 2>/dev/null
leaf() {
	local name=$1 cn=$2
	key "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$cn" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
		-sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}
leaf default tux.test
leaf a.test a.test
leaf b.test b.test
rm -f ca.srl
cd - >/dev/null
rm -rf "$dir" && mv "$tmp" "$dir"
