#!/usr/bin/env bash
# Stops the moto server started by moto-up.sh (and only it: by its pid file). Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
M=$PEERS_DIR/moto
if peers_alive "$M/pid"; then
    pid=$(cat "$M/pid")
    kill -TERM "$pid"
    peers_wait 50 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    echo "moto stopped"
fi
rm -f "$M/pid" "$M/port"
