#!/bin/sh
# Batch-B forward latency of one model: qsearch (`qsearch profile`: the
# integer engine for integer configs, ENGINE=emulate for the float kernels +
# quantize hooks) against PyTorch eager
# (bench/latency_torch.py, Debian's python3-torch), float and fake-quantized
# with a by-type integer config, both single-threaded, same test rows, same
# measuring procedure. Prints each median with its 95% CI, the accuracy both
# report (a cross-check that they run the same model), and the ratio
# torch / qsearch. Runs alternate (qsearch, torch, qsearch, torch ...) so
# that drift on a shared machine hits both.
#   bench/latency.sh [BUILD [MODEL [DATA [QUANT]]]]
# Defaults: build, a jsc-s trained on letter into a temporary file, letter,
# configs/quant-int8.toml. BATCH (1), BUDGET (2 s), REPEAT (1), ENGINE (int) from the environment.
set -eu
BUILD=${1:-build}
MODEL=${2:-}
DATA=${3:-letter}
QUANT=${4:-configs/quant-int8.toml}
BATCH=${BATCH:-1}
BUDGET=${BUDGET:-2}
REPEAT=${REPEAT:-1}
PY=/usr/bin/python3
Q="$BUILD/qsearch"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$MODEL" ]; then
    MODEL="$work/jsc-s.safetensors"
    "$Q" train --model jsc-s --data "$DATA" -o "$MODEL" >&2
fi
"$Q" data export "$DATA" -o "$work/npy" >&2

# field FILE KEY...: prints d[KEY][KEY]... of a JSON document
field() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[int(k)] if k.isdigit() else d[k]
print(d if not isinstance(d, float) else "%.0f" % d if d > 100 else "%.4f" % d)' "$@"
}

printf '%-6s %-8s %12s %25s %9s\n' config engine median_ns "95% CI" accuracy
i=0
while [ "$i" -lt "$REPEAT" ]; do
    for mode in float quant; do
        qopt=""; topt=""
        if [ "$mode" = quant ]; then qopt="--quant $QUANT"; topt="--quant $QUANT"; fi
        # shellcheck disable=SC2086
        "$Q" profile --model "$MODEL" --data "$DATA" $qopt --engine "${ENGINE:-int}" --batch "$BATCH" \
            --latency-budget "$BUDGET" --json \
            > "$work/q.json" 2> "$work/q.err" || { cat "$work/q.err" >&2; exit 1; }
        # shellcheck disable=SC2086
        "$PY" bench/latency_torch.py --model "$MODEL" --data "$work/npy" $topt --batch "$BATCH" --budget "$BUDGET" \
            > "$work/t.json"
        lat=latency
        [ "$BATCH" -gt 1 ] && lat=latency_batch
        qm=$(field "$work/q.json" $lat median_ns)
        tm=$(field "$work/t.json" median_ns)
        printf '%-6s %-8s %12s %25s %9s\n' "$mode" qsearch "$qm" \
            "$(field "$work/q.json" $lat ci95_ns 0)-$(field "$work/q.json" $lat ci95_ns 1)" \
            "$(field "$work/q.json" accuracy)"
        printf '%-6s %-8s %12s %25s %9s\n' "$mode" torch "$tm" \
            "$(field "$work/t.json" ci95_ns 0)-$(field "$work/t.json" ci95_ns 1)" "$(field "$work/t.json" accuracy)"
        "$PY" -c 'import sys; print("%-6s ratio torch/qsearch at batch %s: %.1fx" % (sys.argv[1], sys.argv[4], float(sys.argv[3]) / float(sys.argv[2])))' \
            "$mode" "$qm" "$tm" "$BATCH"
    done
    i=$((i + 1))
done
