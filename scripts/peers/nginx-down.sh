#!/usr/bin/env bash
# Stops the nginx instances started by nginx-up.sh (and only them: by their pid files).
# Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
for N in "$PEERS_DIR/nginx" "$PEERS_DIR/nginx-reload"; do
    if peers_alive "$N/nginx.pid"; then
        pid=$(cat "$N/nginx.pid")
        kill -QUIT "$pid"
        peers_wait 100 bash -c "! kill -0 $pid 2>/dev/null" || kill -TERM "$pid" 2>/dev/null || true
        peers_wait 30 bash -c "! kill -0 $pid 2>/dev/null" || true
        echo "nginx stopped ($N)"
    fi
    rm -f "$N/nginx.pid"
done
