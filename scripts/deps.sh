#!/bin/sh
# Installs the Debian packages qsearch needs to build, test and run its demo,
# only those that are missing. Run as root on Debian 12 (or with sudo).
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --peers  also the peers used by tests/ and bench/ (PyTorch, Optuna, oneDNN)
set -eu

BUILD="gcc make pkg-config libjansson-dev libhdf5-dev zlib1g-dev libsqlite3-dev"
PEERS="python3 python3-numpy python3-torch python3-optuna python3-h5py libdnnl-dev"

want="$BUILD"
[ "${1:-}" = "--peers" ] && want="$BUILD $PEERS"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
