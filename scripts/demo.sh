#!/bin/sh
# make demo: the whole job on the default dataset. Fetches UCI Letter
# Recognition, trains jsc-s, evaluates it in float and 8-bit, profiles it,
# searches per-layer precisions (accuracy against BitOPs, a Pareto front) and
# writes the HTML report. Everything lands in out/demo/.
set -eu
BUILD=${1:-build}
Q="$BUILD/qsearch"
OUT=out/demo
mkdir -p "$OUT"
rm -f "$OUT/study.db" "$OUT/study.db-wal" "$OUT/study.db-shm"
start=$(date +%s)

step() { printf '\n== %s\n' "$*" >&2; }

step "1. dataset: UCI Letter Recognition (from Debian's opencv-doc package, cached)"
"$Q" data fetch letter
"$Q" data info letter 2>&1 | head -5

step "2. train jsc-s on letter (Adam lr 0.01, batch 128, 30 epochs, cosine schedule)"
"$Q" train --model jsc-s --data letter -o "$OUT/jsc-s.safetensors" 2>&1 | tail -3

step "3. evaluate on the held-out test split: float, then 8-bit fixed point"
"$Q" eval --model "$OUT/jsc-s.safetensors" --json > "$OUT/eval-float.json"
"$Q" eval --model "$OUT/jsc-s.safetensors" --quant configs/quant-int8.toml --json > "$OUT/eval-int8.json"
"$Q" eval --model "$OUT/jsc-s.safetensors" --quant configs/quant-int8.toml 2>&1 | grep -E '^(accuracy|macro|loss)'

step "4. profile the 8-bit model: size, BitOPs, latency with its CI, energy"
"$Q" profile --model "$OUT/jsc-s.safetensors" --quant configs/quant-int8.toml --latency-budget 1 \
    --json > "$OUT/profile-int8.json"
"$Q" profile --model "$OUT/jsc-s.safetensors" --quant configs/quant-int8.toml --latency-budget 1 2>&1 |
    grep -E '^(engine|accuracy|model_size_bits|avg_bitwidth|bitops|latency|energy) '

step "5. search per-layer precisions: accuracy vs BitOPs (configs/demo-jsc-s.toml, NSGA-II)"
"$Q" search --config configs/demo-jsc-s.toml --model "$OUT/jsc-s.safetensors" --data letter \
    --study "$OUT/study.db" -o "$OUT/search"

step "6. report"
"$Q" report --study "$OUT/study.db" -o "$OUT/report.html" --plots "$OUT/plots"

step "done in $(( $(date +%s) - start )) s"
echo "report: $OUT/report.html (results: $OUT/search/best.json, trials.csv, log.json)"
