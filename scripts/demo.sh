#!/bin/sh
# make demo: the main job as far as it exists: fetch letter, train jsc-s,
# evaluate it on the held-out test split. Outputs go to out/demo/.
set -eu
BUILD=${1:-build}
Q="$BUILD/qsearch"
OUT=out/demo
mkdir -p "$OUT"
start=$(date +%s)

echo "== 1. dataset: UCI Letter Recognition (from Debian's opencv-doc package)"
"$Q" data fetch letter
"$Q" data info letter

echo "== 2. train jsc-s on letter (Adam lr 0.01, batch 128, 30 epochs, cosine)"
"$Q" train --model jsc-s --data letter -o "$OUT/jsc-s.safetensors"

echo "== 3. evaluate on the test split"
"$Q" eval --model "$OUT/jsc-s.safetensors" --data letter --json > "$OUT/eval.json"
"$Q" eval --model "$OUT/jsc-s.safetensors" --data letter 2>&1 | head -6

echo "== done in $(( $(date +%s) - start )) s; results in $OUT/"
