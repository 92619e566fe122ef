#!/bin/sh
# PyTorch opens qsearch's model files: the C test program writes models,
# inputs and qsearch's logits (--peer-export), tests/safetensors_peer.py reads
# them with json/struct + torch.frombuffer, loads them into torch.nn models and
# compares logits. Skips (0 passed, 0 failed) when /usr/bin/python3 lacks torch.
PY=/usr/bin/python3
BUILD=$(dirname "${QS_BIN:-build/qsearch}")
if ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "test_safetensors_peer: skipped: $PY has no torch/numpy (apt-get install python3-torch)" >&2
    echo "0 passed, 0 failed"
    exit 0
fi
if [ ! -x "$BUILD/tests/test_safetensors" ]; then
    echo "test_safetensors_peer: $BUILD/tests/test_safetensors not built" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
dir=$(mktemp -d "${QS_TEST_TMP:-/tmp}/peer.XXXXXX")
trap 'rm -rf "$dir"' EXIT
if ! "$BUILD/tests/test_safetensors" --peer-export "$dir"; then
    echo "0 passed, 1 failed"
    exit 1
fi
"$PY" "$(dirname "$0")/safetensors_peer.py" "$dir"
