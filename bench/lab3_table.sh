#!/bin/sh
# MASE lab 3's table: test accuracy of jsc-s on letter under the 16 fixed-point
# configs of configs/lab3/ (linear data_in and weight (width, frac) in
# {(16,8), (8,6), (8,4), (4,2)}, bias (8,4)), qsearch's figure beside the
# PyTorch peer's (tests/quant_peer.py: MASE's modules, F.linear, BatchNorm1d),
# plus the peer's verdict on the logits (bitwise in qsearch's order, within
# the float32 bound in MASE's).
#
#   bench/lab3_table.sh [MODEL.safetensors]
# Without MODEL it trains jsc-s on letter (30 epochs, seed 0) into a temporary
# file. Env: QS_BIN (default build/qsearch), DATA (default letter), SPLIT
# (default test). Needs letter in the cache (qsearch data fetch letter) and
# Debian's python3-torch.
set -eu
Q=${QS_BIN:-build/qsearch}
DATA=${DATA:-letter}
SPLIT=${SPLIT:-test}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

MODEL=${1:-}
if [ -z "$MODEL" ]; then
    MODEL="$T/jsc-s.safetensors"
    echo "training jsc-s on $DATA (30 epochs)..." >&2
    "$Q" train --model jsc-s --data "$DATA" -o "$MODEL" 2> "$T/train.log" || { cat "$T/train.log" >&2; exit 1; }
fi
"$Q" data export "$DATA" -o "$T/npy" 2> /dev/null
"$Q" eval --model "$MODEL" --data "$DATA" --split "$SPLIT" --json > "$T/float.json"

cases=""
for c in "$ROOT"/configs/lab3/*.toml; do
    b=$(basename "$c" .toml)
    "$Q" eval --model "$MODEL" --data "$DATA" --split "$SPLIT" --quant "$c" --logits "$T/$b.npy" --json > "$T/$b.json"
    cases="$cases --case $MODEL $c $T/$b.npy"
done
# shellcheck disable=SC2086
"$PY" "$ROOT/tests/quant_peer.py" --x "$T/npy/${SPLIT}_x.npy" --y "$T/npy/${SPLIT}_y.npy" --json $cases \
    > "$T/peer.json" 2> "$T/peer.log" || true

"$PY" - "$T" "$ROOT/configs/lab3" "$SPLIT" <<'EOF'
import json, os, sys
t, cdir, split = sys.argv[1:4]
peer = {os.path.basename(c["config"])[:-5]: c for c in json.load(open(os.path.join(t, "peer.json")))["cases"]}
fl = json.load(open(os.path.join(t, "float.json")))
print(f"jsc-s on letter, {split} split ({fl['samples']} samples); float accuracy {fl['accuracy']:.4f}")
print(f"{'data_in (w,f)':>13} {'weight (w,f)':>12} {'bias':>6} | {'qsearch':>8} {'PyTorch':>8} {'same':>5} | "
      f"{'max|dlogit|':>11} {'flips':>5} {'exact':>5}")
order = ["16f8", "8f6", "8f4", "4f2"]
all_same = True
for d in order:
    for w in order:
        b = f"d{d}_w{w}"
        q = json.load(open(os.path.join(t, b + ".json")))
        p = peer.get(b, {})
        pa = p.get("accuracy_peer")
        same = pa is not None and round(pa * q["samples"]) == round(q["accuracy"] * q["samples"])
        all_same &= same and p.get("ok", False)
        fmt = lambda s: "(" + s.replace("f", ",") + ")"
        print(f"{fmt(d):>13} {fmt(w):>12} {'(8,4)':>6} | {q['accuracy']:8.4f} "
              f"{pa if pa is None else format(pa, '8.4f'):>8} {'yes' if same else 'NO':>5} | "
              f"{p.get('max_abs_diff', float('nan')):11.3g} {p.get('samples_with_boundary_flip', '-'):>5} "
              f"{'yes' if p.get('exact_bitwise_equal') else 'NO':>5}")
print("all 16 accuracies identical and every peer check passed" if all_same else
      "MISMATCH: see the peer's lines above", file=sys.stderr)
sys.exit(0 if all_same else 1)
EOF
rc=$?
grep -v '^  ok' "$T/peer.log" >&2 || true
exit $rc
