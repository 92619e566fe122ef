#!/bin/sh
# Time to quantize jsc-s under one config and evaluate it on letter's whole
# validation split: qsearch in-process (bench/quant_eval.c: qs_quant_model_apply
# + qs_evaluate, setup excluded) against PyTorch doing the same as MASE
# (bench/quant_eval_torch.py: MASE's quantizers on data_in/weight/bias in every
# forward, F.linear, BatchNorm1d, accuracy + loss), both single-threaded, plus
# the whole `qsearch eval --quant` process (load model, data from the cache,
# parse the config, evaluate). Rounds alternate the two peers; each round
# reports a median over many runs; the script prints the median over rounds
# and the ratio. The machine may be shared: figures are noisy.
#
#   bench/quant_eval.sh [MODEL.safetensors] [CONFIG.toml]
# Env: BUILD (default build), ROUNDS (5), CLI_RUNS (15), DATA (letter).
# Defaults: trains jsc-s on letter (30 epochs) into a temporary file;
# CONFIG configs/lab3/d8f4_w8f4.toml.
set -eu
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-5}
CLI_RUNS=${CLI_RUNS:-15}
DATA=${DATA:-letter}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
Q="$BUILD/qsearch"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

MODEL=${1:-}
CONFIG=${2:-$ROOT/configs/lab3/d8f4_w8f4.toml}
make -s BUILD="$BUILD" "$BUILD/libqsearch.a" "$Q" >&2
mkdir -p "$BUILD/bench"
cc -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 \
    bench/quant_eval.c "$BUILD/libqsearch.a" -ljansson -lsqlite3 \
    $(pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5) \
    -lz -lpthread -ldl -lm -o "$BUILD/bench/quant_eval"
if [ -z "$MODEL" ]; then
    MODEL="$T/jsc-s.safetensors"
    "$Q" train --model jsc-s --data "$DATA" -o "$MODEL" 2> /dev/null
fi
"$Q" data export "$DATA" -o "$T/npy" 2> /dev/null
X="$T/npy/val_x.npy"
Y="$T/npy/val_y.npy"

echo "== quant_eval ($(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "model $MODEL, config $(basename "$CONFIG"), $DATA val split, single-threaded, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
    OMP_NUM_THREADS=1 "$BUILD/bench/quant_eval" "$MODEL" "$CONFIG" "$X" "$Y" 200 1 >> "$T/qs.jsonl"
    OMP_NUM_THREADS=1 "$PY" bench/quant_eval_torch.py "$MODEL" "$CONFIG" "$X" "$Y" --reps 30 \
        --min-seconds 1 >> "$T/pt.jsonl"
done
for r in $(seq "$CLI_RUNS"); do
    s=$(date +%s%N)
    "$Q" eval --model "$MODEL" --data "$DATA" --split val --quant "$CONFIG" --json > "$T/cli.json"
    e=$(date +%s%N)
    echo $((e - s)) >> "$T/cli.txt"
done

"$PY" - "$T" <<'EOF'
import json, os, statistics as st, sys
t = sys.argv[1]
load = lambda f: [json.loads(l) for l in open(os.path.join(t, f))]
qs, pt = load("qs.jsonl"), load("pt.jsonl")
cli = [int(l) for l in open(os.path.join(t, "cli.txt"))]
cli_acc = json.load(open(os.path.join(t, "cli.json")))["accuracy"]
mq = st.median(r["median_ns"] for r in qs)
ma = st.median(r["apply_median_ns"] for r in qs)
me = st.median(r["evaluate_median_ns"] for r in qs)
mp = st.median(r["median_ns"] for r in pt)
n = qs[0]["samples"]
fmt = lambda rs: ", ".join("%.3f" % (r["median_ns"] / 1e6) for r in rs)
print(f"samples {n}; accuracy qsearch {qs[0]['accuracy']:.6f}, PyTorch {pt[0]['accuracy']:.6f}, "
      f"CLI {cli_acc:.6f}")
print(f"qsearch in-process  {mq / 1e6:8.3f} ms  (apply {ma / 1e3:.1f} us + evaluate {me / 1e6:.3f} ms; "
      f"rounds {fmt(qs)})")
print(f"PyTorch (MASE way)  {mp / 1e6:8.3f} ms  (torch {pt[0]['torch']}; "
      f"rounds {fmt(pt)})")
print(f"ratio PyTorch / qsearch: {mp / mq:.2f}x")
print(f"qsearch eval CLI, whole process: median {st.median(cli) / 1e6:.1f} ms over {len(cli)} runs "
      f"(min {min(cli) / 1e6:.1f}, max {max(cli) / 1e6:.1f})")
EOF
