#!/usr/bin/env bash
# Stops the nginx started by nginx-up.sh (and only it: by its pid file). Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
N=$PEERS_DIR/nginx
if peers_alive "$N/nginx.pid"; then
    pid=$(cat "$N/nginx.pid")
    kill -QUIT "$pid"
    peers_wait 100 bash -c "! kill -0 $pid 2>/dev/null" || kill -TERM "$pid" 2>/dev/null || true
    peers_wait 30 bash -c "! kill -0 $pid 2>/dev/null" || true
    echo "nginx stopped"
fi
rm -f "$N/nginx.pid"
