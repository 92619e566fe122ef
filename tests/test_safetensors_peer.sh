#!/bin/sh
# PyTorch opens qsearch's model files: the C test program writes models,
# inputs and qsearch's logits (--peer-export), tests/safetensors_peer.py reads
# them with json/struct + torch.frombuffer, loads them into torch.nn models and
# compares logits. Skips (0 passed, 0 failed) when /usr/bin/python3 lacks torch.
. tests/lib.sh
require_py "torch, numpy" "apt-get install python3-torch"
require_built "$BUILD/tests/test_safetensors"
use_tmp
if ! "$BUILD/tests/test_safetensors" --peer-export "$T"; then
    echo "0 passed, 1 failed"
    exit 1
fi
"$PY" "$(dirname "$0")/safetensors_peer.py" "$T"
