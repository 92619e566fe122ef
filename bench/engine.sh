#!/bin/sh
# Whole-model latency of the integer engine against the emulation path and
# PyTorch eager, one command, ratios from one run:
#   bench/engine.sh [BUILD] [--quick]
# jsc-s on letter and mlp:784-1024-1024-10 on fashion-mnist (both in the cache:
# `qsearch data fetch letter|fashion-mnist`), batch 1 and BATCH (256), weight
# widths 1, 2, 4, 8, 16 (integer) and float. bench/engine.c measures qsearch
# (engine and emulation, equivalence on the test splits) and writes the test
# rows; bench/engine_torch.py measures PyTorch (float, oneDNN float for the MLP,
# quantize_dynamic int8) on the same rows. Both: thread CPU time per call,
# samples of ~1 ms, interleaved rounds, medians. Single-threaded.
# jsc-s is trained for 30 epochs (< 1 s), the MLP for MLP_EPOCHS (1) epochs.
# ROUNDS (15), BATCH (256), MLP_EPOCHS (1) from the environment; --quick: 3 rounds, untrained MLP.
set -eu
BUILD=${1:-build}
[ $# -gt 0 ] && shift
QUICK=0
case "${1:-}" in --quick) QUICK=1 ;; "") ;; *) echo "usage: bench/engine.sh [BUILD] [--quick]" >&2; exit 2 ;; esac
ROUNDS=${ROUNDS:-$([ "$QUICK" = 1 ] && echo 3 || echo 15)}
BATCH=${BATCH:-256}
# 0: keep PyTorch's default initialisation (saves ~45 s; the default with --quick)
MLP_EPOCHS=${MLP_EPOCHS:-$([ "$QUICK" = 1 ] && echo 0 || echo 1)}
PY=/usr/bin/python3
CC=${CC:-cc}
HDF5_LIBS=$(pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make -s BUILD="$BUILD" "$BUILD/libqsearch.a" >&2
mkdir -p "$BUILD/bench"
$CC -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Werror -Iinclude -D_POSIX_C_SOURCE=200809L bench/engine.c \
    "$BUILD/libqsearch.a" -ljansson -lsqlite3 $HDF5_LIBS -lz -lpthread -ldl -lm -o "$BUILD/bench/engine"

echo "== engine ($(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
OMP_NUM_THREADS=1 "$BUILD/bench/engine" --rounds "$ROUNDS" --batch "$BATCH" --mlp-epochs "$MLP_EPOCHS" --npy "$work" --json "$work/q.jsonl"
OMP_NUM_THREADS=1 "$PY" bench/engine_torch.py --npy "$work" --rounds "$ROUNDS" --batch "$BATCH" \
    > "$work/t.jsonl" 2> "$work/t.err" || { cat "$work/t.err" >&2; exit 1; }

# One table: qsearch engine / emulation and torch per model, config and batch; ratios torch / engine.
"$PY" - "$work/q.jsonl" "$work/t.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
lat = {(r["model"], r["config"], r["engine"], r["batch"]): r["median_ns"] for r in rows if r["kind"] == "latency"}
def us(v): return "%.2f" % (v / 1e3) if v is not None else "-"
for model in ("jsc-s", "mlp"):
    batches = sorted({b for (m, _, _, b) in lat if m == model})
    for b in batches:
        tf = lat.get((model, "float", "torch", b))
        td = lat.get((model, "torch-int8-dynamic", "torch", b))
        to = lat.get((model, "float-onednn", "torch", b))
        best_torch = min(v for v in (tf, td, to) if v is not None)
        print("\n%s, batch %d (microseconds per call; torch float %s, torch oneDNN float %s, torch int8 dynamic %s)"
              % (model, b, us(tf), us(to), us(td)))
        print("%-7s %12s %12s %10s %14s %14s" % ("config", "engine", "emulate", "emu/eng", "torch-fp/eng",
                                                  "best-torch/eng"))
        for cfg in ("float", "w1", "w2", "w4", "w8", "w16"):
            e = lat.get((model, cfg, "int", b)); m = lat.get((model, cfg, "emu", b))
            if e is None:
                continue
            print("%-7s %12s %12s %9.1fx %13.1fx %13.1fx" % (cfg, us(e), us(m), m / e, tf / e, best_torch / e))
EOF
