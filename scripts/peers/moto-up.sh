#!/usr/bin/env bash
# Starts moto's server (PyPI moto[server], an independent implementation of the AWS APIs) on
# 127.0.0.1 with Lambda on its Docker-free backend: Invoke answers without running code
# (RequestResponse 200, Event 202, DryRun 204). moto closes every connection, so it checks API
# shape, not connection reuse. Installs moto into a venv under $PEERS_DIR if missing.
# Env:
#   PEERS_DIR          state dir (default .peers/ at the repo root)
#   MOTO_PORT / PORT   port (default 15000)
#   MOTO_SPEC          pip requirement (default 'moto[server]>=5.1,<6')
# Writes $PEERS_DIR/moto/env (sourceable: LAMBDA_VPCE_MOTO_URL) and prints the URL.
# Idempotent: a running instance on the same port is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
M=$PEERS_DIR/moto
V=$PEERS_DIR/venv
PORT=${MOTO_PORT:-${PORT:-15000}}
URL=http://127.0.0.1:$PORT
mkdir -p "$M"

command -v curl >/dev/null || peers_apt_install curl ca-certificates
if [ ! -x "$V/bin/moto_server" ]; then
    command -v python3 >/dev/null || peers_apt_install python3 python3-venv
    python3 -m venv "$V" 2>/dev/null || { peers_apt_install python3-venv; python3 -m venv "$V"; }
    "$V/bin/pip" install -q --disable-pip-version-check "${MOTO_SPEC:-moto[server]>=5.1,<6}"
fi

answers() { curl -sf -o /dev/null "$URL/moto-api/"; }
if peers_alive "$M/pid" && [ "$(cat "$M/port" 2>/dev/null)" = "$PORT" ] && answers; then
    :
else
    "$here/moto-down.sh" >/dev/null
    # setsid: its own session, so a caller's Ctrl-C or exit does not take it down half-way.
    setsid "$V/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$M/server.log" 2>&1 < /dev/null &
    echo $! > "$M/pid"; echo "$PORT" > "$M/port"
    # Up when it answers and is still our process (something else may hold the port).
    for _ in $(seq 300); do
        peers_alive "$M/pid" || { echo "moto-up.sh: moto exited (port $PORT taken?)" >&2; cat "$M/server.log" >&2; exit 1; }
        answers && break
        sleep 0.1
    done
    answers && sleep 0.2 && peers_alive "$M/pid" || {
        echo "moto-up.sh: moto does not answer on $URL" >&2; cat "$M/server.log" >&2; exit 1; }
fi
# Lambda without Docker: Invoke answers from moto itself instead of running a container.
curl -sf -X POST -H 'Content-Type: application/json' -d '{"lambda":{"use_docker":false}}' \
    "$URL/moto-api/config" > /dev/null
echo "export LAMBDA_VPCE_MOTO_URL=$URL" > "$M/env"
echo "$URL"
