# Shared by the scripts in scripts/peers/ (sourced, not run).
# PEERS_DIR: where state lives (default: .peers/ at the repository root, gitignored).
peers_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS_DIR=${PEERS_DIR:-$peers_root/.peers}
mkdir -p "$PEERS_DIR"

# Runs apt-get update at most once per state dir, then installs the packages given.
peers_apt_install() {
    if [ ! -f "$PEERS_DIR/.apt-updated" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        touch "$PEERS_DIR/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# True when the pid in file $1 names a live process.
peers_alive() {
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Waits up to $1 tenths of a second for the command after it to succeed.
peers_wait() {
    local tries=$1; shift
    for _ in $(seq "$tries"); do "$@" && return 0; sleep 0.1; done
    return 1
}
