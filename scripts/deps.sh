#!/bin/sh
# Installs the Debian packages qsearch needs, only those that are missing.
# Run as root on Debian 12 (or it uses sudo).
#   scripts/deps.sh           build (make, make demo)
#   scripts/deps.sh --test    build + the peers the tests compare against (make test):
#                             PyTorch for the golden/peer checks, Optuna for sampler checks
#   scripts/deps.sh --bench   test + benchmark peers (oneDNN) (make bench)
set -eu

BUILD="gcc make pkg-config libjansson-dev libhdf5-dev zlib1g-dev libsqlite3-dev"
TEST="python3 python3-numpy python3-torch python3-optuna"
BENCH="libdnnl-dev"

case "${1:-}" in
    "") want="$BUILD" ;;
    --test) want="$BUILD $TEST" ;;
    --bench | --peers) want="$BUILD $TEST $BENCH" ;;
    *) echo "usage: scripts/deps.sh [--test | --bench]" >&2; exit 2 ;;
esac

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
