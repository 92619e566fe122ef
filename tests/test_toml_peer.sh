#!/bin/sh
# Differential test of the TOML parser against Python's tomllib (tests/toml_peer.py).
# Run by tests/run.sh, which sets QS_BIN=BUILD/qsearch; the decoder is BUILD/tests/test_toml.
# Last line: "N passed, N failed" (skipped as "0 passed, 0 failed" without tomllib).
BUILD=$(dirname "${QS_BIN:-build/qsearch}")
DECODER="$BUILD/tests/test_toml"
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import tomllib' 2>/dev/null; then
    echo "test_toml_peer: skipped: $PY has no tomllib (needs Python 3.11+)" >&2
    echo "0 passed, 0 failed"
    exit 0
fi
if ! [ -x "$DECODER" ]; then
    echo "test_toml_peer: $DECODER not built" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
exec "$PY" tests/toml_peer.py "$DECODER" --seed 1 --random 150 --mutants 500
