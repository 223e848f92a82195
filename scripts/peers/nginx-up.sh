#!/usr/bin/env bash
# Starts nginx (Debian nginx-light, installed if missing) as an HTTPS stand-in for the Lambda
# Invoke API on 127.0.0.1, trusted through a throwaway CA (pki.sh). See nginx.conf.tmpl.
# Env:
#   PEERS_DIR            state dir (default .peers/ at the repo root)
#   NGINX_PORT / PORT    first port (default 18443); PORT+1 announces, PORT+2 has the request
#                        limit, PORT+3 offers HTTP/2
#   KEEPALIVE            keepalive_timeout of PORT, nginx syntax: "1s" (default), "2000ms", or
#                        "2s 2s" to also announce Keep-Alive: timeout=2
#   KEEPALIVE_REQUESTS   keepalive_requests of PORT+2 (default 10)
# Writes $PEERS_DIR/nginx/env (sourceable: LAMBDA_VPCE_NGINX_* variables) and prints the URL.
# Idempotent: a running instance is stopped and started again with the new settings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
N=$PEERS_DIR/nginx
PORT=${NGINX_PORT:-${PORT:-18443}}
PORT1=$((PORT + 1)); PORT2=$((PORT + 2)); PORT3=$((PORT + 3))
KEEPALIVE=${KEEPALIVE:-1s}
KEEPALIVE_REQUESTS=${KEEPALIVE_REQUESTS:-10}

command -v nginx >/dev/null || peers_apt_install nginx-light
command -v curl >/dev/null || peers_apt_install curl ca-certificates
"$here/pki.sh" "$PEERS_DIR/pki"

# The first token of KEEPALIVE in milliseconds (nginx time units ms, s, m; bare = seconds).
t=${KEEPALIVE%% *}
case $t in
    *ms) ms=${t%ms} ;;
    *s) ms=$((${t%s} * 1000)) ;;
    *m) ms=$((${t%m} * 60000)) ;;
    *[0-9]) ms=$((t * 1000)) ;;
    *) echo "nginx-up.sh: KEEPALIVE=$KEEPALIVE: expected a time like 1s or 1500ms" >&2; exit 2 ;;
esac
[[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -ge 1000 ] || {
    echo "nginx-up.sh: KEEPALIVE=$KEEPALIVE: expected at least 1s (announced in whole seconds)" >&2; exit 2; }
announce_s=$((ms / 1000))

"$here/nginx-down.sh" >/dev/null
mkdir -p "$N/logs" "$N/tmp"
chmod 1777 "$N/tmp"
cp "$here/lambda.inc" "$N/lambda.inc"
sed -e "s#@N@#$N#g" -e "s#@PKI@#$PEERS_DIR/pki#g" \
    -e "s#@PORT@#$PORT#g" -e "s#@PORT1@#$PORT1#g" -e "s#@PORT2@#$PORT2#g" -e "s#@PORT3@#$PORT3#g" \
    -e "s#@KEEPALIVE@#$KEEPALIVE#g" -e "s#@KEEPALIVE_T@#$t#g" -e "s#@ANNOUNCE_S@#$announce_s#g" \
    -e "s#@KEEPALIVE_REQUESTS@#$KEEPALIVE_REQUESTS#g" \
    "$here/nginx.conf.tmpl" > "$N/nginx.conf"
nginx -p "$N" -c nginx.conf -e "$N/logs/error.log" -t -q
nginx -p "$N" -c nginx.conf -e "$N/logs/error.log"

ready() {
    curl -sf --cacert "$PEERS_DIR/pki/ca.pem" -X POST -d '{}' -o /dev/null \
        "https://127.0.0.1:$1/2015-03-31/functions/f/invocations"
}
for p in "$PORT" "$PORT1" "$PORT2" "$PORT3"; do
    peers_wait 100 ready "$p" || { echo "nginx-up.sh: nginx does not answer on $p" >&2; cat "$N/logs/error.log" >&2; exit 1; }
done

cat > "$N/env" <<ENV
export LAMBDA_VPCE_NGINX_URL=https://127.0.0.1:$PORT
export LAMBDA_VPCE_NGINX_ANNOUNCE_URL=https://127.0.0.1:$PORT1
export LAMBDA_VPCE_NGINX_REQUESTS_URL=https://127.0.0.1:$PORT2
export LAMBDA_VPCE_NGINX_H2_URL=https://127.0.0.1:$PORT3
export LAMBDA_VPCE_NGINX_CA=$PEERS_DIR/pki/ca.pem
export LAMBDA_VPCE_NGINX_KEEPALIVE_MS=$ms
export LAMBDA_VPCE_NGINX_KEEPALIVE_REQUESTS=$KEEPALIVE_REQUESTS
ENV
echo "https://127.0.0.1:$PORT"
