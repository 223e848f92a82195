#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate for 127.0.0.1 / localhost in DIR
# (default: $PEERS_DIR/pki). ca.pem is what a client must trust; fullchain.pem + server.key are
# what a server presents. Idempotent: an existing set is kept.
# Usage: scripts/peers/pki.sh [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
out=${1:-$PEERS_DIR/pki}
command -v openssl >/dev/null || peers_apt_install openssl
mkdir -p "$out"; cd "$out"
[ -f fullchain.pem ] && [ -f server.key ] && [ -f ca.pem ] && exit 0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 3650 -subj "/CN=lambda-vpce peer-test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj "/CN=localhost" 2>/dev/null
printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days 825 -extfile ext.cnf 2>/dev/null
cat server.pem ca.pem > fullchain.pem
