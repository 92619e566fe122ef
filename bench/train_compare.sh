#!/bin/sh
# Training speed and accuracy: qsearch (bench/train_bench.c, the library's
# qs_train) against PyTorch (bench/train_torch.py, Debian's python3-torch) on
# the same .npy splits with the same recipe (Adam lr 1e-2, batch 128, 30
# epochs, cosine), both single-threaded. Prints both JSON documents and the
# ratios of training wall time and CPU time (wall time is noisy on a shared
# machine; CPU time less so).
#   bench/train_compare.sh [BUILD [ARCH [DATA_DIR]]]
# Without DATA_DIR it exports `letter` with BUILD/qsearch; if that fails it
# generates synthetic data of letter's shape (12,800 train x 16, 26 classes).
set -eu
BUILD=${1:-build}
ARCH=${2:-jsc-s}
DATA=${3:-}
PY=/usr/bin/python3
EPOCHS=${EPOCHS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -Iinclude -std=c11 -O2 -D_POSIX_C_SOURCE=200809L bench/train_bench.c "$BUILD/libqsearch.a" \
    -ljansson -lsqlite3 -lz -lpthread -ldl -lm -o "$work/train_bench"

if [ -z "$DATA" ]; then
    DATA="$work/data"
    mkdir -p "$DATA"
    if ! "$BUILD/qsearch" data export letter -o "$DATA" >&2; then
        echo "train_compare: letter unavailable; using synthetic data of letter's shape" >&2
        "$PY" - "$DATA" <<'PYEOF'
import sys, numpy as np
rng = np.random.default_rng(0)
centres = rng.normal(0, 1.0, (26, 16))
def split(n, name):
    y = rng.integers(0, 26, n).astype(np.int32)
    x = (centres[y] + rng.normal(0, 0.7, (n, 16))).astype(np.float32)
    np.save(f"{sys.argv[1]}/{name}_x.npy", x)
    np.save(f"{sys.argv[1]}/{name}_y.npy", y)
split(12800, "train"); split(3200, "val"); split(4000, "test")
PYEOF
    fi
fi

q=$("$work/train_bench" "$DATA" "$ARCH" "$EPOCHS")
echo "$q"
t=$("$PY" bench/train_torch.py --data "$DATA" --model "$ARCH" --epochs "$EPOCHS" --threads 1)
echo "$t"
"$PY" - "$q" "$t" <<'PYEOF'
import json, sys
q, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "arch": q["arch"], "epochs": q["epochs"],
    "qsearch_test_accuracy": q["test_accuracy"], "pytorch_test_accuracy": t["test_accuracy"],
    "qsearch_train_seconds": q["train_seconds"], "pytorch_train_seconds": t["train_seconds"],
    "speedup_wall": t["train_seconds"] / q["train_seconds"],
    "speedup_cpu": t["train_cpu_seconds"] / q["train_cpu_seconds"],
}))
PYEOF
