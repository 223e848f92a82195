#!/usr/bin/env bash
# Starts nginx (Debian nginx-light, installed if missing) as an HTTPS stand-in for the Lambda
# Invoke API on 127.0.0.1, trusted through a throwaway CA (pki.sh). See nginx.conf.tmpl.
# Env:
#   PEERS_DIR            state dir (default .peers/ at the repo root)
#   NGINX_PORT / PORT    first port (default 18443); PORT+1 announces, PORT+2 has the request
#                        limit, PORT+3 offers HTTP/2, PORT+4 offers HTTP/2 with a stream limit
#                        and GOAWAY after H2_KEEPALIVE_REQUESTS streams, PORT+5 offers HTTP/2
#                        from a second nginx (its own pid, reloaded by the peer suite)
#   KEEPALIVE            keepalive_timeout of PORT, nginx syntax: "1s" (default), "2000ms", or
#                        "2s 2s" to also announce Keep-Alive: timeout=2
#   KEEPALIVE_REQUESTS   keepalive_requests of PORT+2 (default 10)
#   H2_MAX_STREAMS       http2_max_concurrent_streams of PORT+4 (default 32)
#   H2_KEEPALIVE_REQUESTS keepalive_requests of PORT+4: streams per connection, then nginx sends
#                        GOAWAY (default 200)
# Writes $PEERS_DIR/nginx/env (sourceable: LAMBDA_VPCE_NGINX_* variables) and prints the URL.
# Idempotent: a running instance is stopped and started again with the new settings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
N=$PEERS_DIR/nginx
R=$PEERS_DIR/nginx-reload
PORT=${NGINX_PORT:-${PORT:-18443}}
PORT1=$((PORT + 1)); PORT2=$((PORT + 2)); PORT3=$((PORT + 3)); PORT4=$((PORT + 4)); PORT5=$((PORT + 5))
KEEPALIVE=${KEEPALIVE:-1s}
KEEPALIVE_REQUESTS=${KEEPALIVE_REQUESTS:-10}
H2_MAX_STREAMS=${H2_MAX_STREAMS:-32}
H2_KEEPALIVE_REQUESTS=${H2_KEEPALIVE_REQUESTS:-200}
for v in KEEPALIVE_REQUESTS H2_MAX_STREAMS H2_KEEPALIVE_REQUESTS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "nginx-up.sh: $v=${!v}: expected a positive number" >&2; exit 2; }
done

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
# $1: prefix dir, $2: template. Fills in the template and starts an nginx with its own pid file.
start() {
    mkdir -p "$1/logs" "$1/tmp"
    chmod 1777 "$1/tmp"
    cp "$here/lambda.inc" "$1/lambda.inc"
    sed -e "s#@N@#$1#g" -e "s#@PKI@#$PEERS_DIR/pki#g" \
        -e "s#@PORT@#$PORT#g" -e "s#@PORT1@#$PORT1#g" -e "s#@PORT2@#$PORT2#g" -e "s#@PORT3@#$PORT3#g" \
        -e "s#@PORT4@#$PORT4#g" -e "s#@PORT5@#$PORT5#g" \
        -e "s#@KEEPALIVE@#$KEEPALIVE#g" -e "s#@KEEPALIVE_T@#$t#g" -e "s#@ANNOUNCE_S@#$announce_s#g" \
        -e "s#@KEEPALIVE_REQUESTS@#$KEEPALIVE_REQUESTS#g" \
        -e "s#@H2_MAX_STREAMS@#$H2_MAX_STREAMS#g" -e "s#@H2_KEEPALIVE_REQUESTS@#$H2_KEEPALIVE_REQUESTS#g" \
        "$2" > "$1/nginx.conf"
    nginx -p "$1" -c nginx.conf -e "$1/logs/error.log" -t -q
    nginx -p "$1" -c nginx.conf -e "$1/logs/error.log"
}
start "$N" "$here/nginx.conf.tmpl"
# A second instance for the graceful-reload test, so that its reloads disturb no other test.
start "$R" "$here/nginx-reload.conf.tmpl"

ready() {
    curl -sf --cacert "$PEERS_DIR/pki/ca.pem" -X POST -d '{}' -o /dev/null \
        "https://127.0.0.1:$1/2015-03-31/functions/f/invocations"
}
for p in "$PORT" "$PORT1" "$PORT2" "$PORT3" "$PORT4" "$PORT5"; do
    peers_wait 100 ready "$p" || { echo "nginx-up.sh: nginx does not answer on $p" >&2; cat "$N/logs/error.log" "$R/logs/error.log" >&2; exit 1; }
done

cat > "$N/env" <<ENV
export LAMBDA_VPCE_NGINX_URL=https://127.0.0.1:$PORT
export LAMBDA_VPCE_NGINX_ANNOUNCE_URL=https://127.0.0.1:$PORT1
export LAMBDA_VPCE_NGINX_REQUESTS_URL=https://127.0.0.1:$PORT2
export LAMBDA_VPCE_NGINX_H2_URL=https://127.0.0.1:$PORT3
export LAMBDA_VPCE_NGINX_H2_LIMITS_URL=https://127.0.0.1:$PORT4
export LAMBDA_VPCE_NGINX_H2_MAX_STREAMS=$H2_MAX_STREAMS
export LAMBDA_VPCE_NGINX_H2_KEEPALIVE_REQUESTS=$H2_KEEPALIVE_REQUESTS
export LAMBDA_VPCE_NGINX_RELOAD_URL=https://127.0.0.1:$PORT5
export LAMBDA_VPCE_NGINX_RELOAD_PREFIX=$R
export LAMBDA_VPCE_NGINX_CA=$PEERS_DIR/pki/ca.pem
export LAMBDA_VPCE_NGINX_KEEPALIVE_MS=$ms
export LAMBDA_VPCE_NGINX_KEEPALIVE_REQUESTS=$KEEPALIVE_REQUESTS
ENV
echo "https://127.0.0.1:$PORT"
