#!/bin/sh
# Differential test of the TOML parser against Python's tomllib (tests/toml_peer.py).
# Run by tests/run.sh, which sets QS_BIN=BUILD/qsearch; the decoder is BUILD/tests/test_toml.
# Last line: "N passed, N failed" (skipped as "0 passed, 0 failed" without tomllib).
. tests/lib.sh
require_py tomllib "needs Python 3.11+"
require_built "$BUILD/tests/test_toml"
exec "$PY" tests/toml_peer.py "$BUILD/tests/test_toml" --seed 1 --random 150 --mutants 500
