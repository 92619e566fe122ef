#!/bin/sh
# Benchmarks against peers: each runs qsearch and its peer on the same work in
# one run and prints ratios (never an assertion: these machines are noisy).
# Not part of `make test`; `make bench` runs them all.
#   bench/run.sh [BUILD] [NAME] [args...]
#     kernels   integer kernels vs oneDNN int8 matmul and the machine's peak (bench/kernels.c)
#     engine    whole-model latency by weight width vs emulation and PyTorch eager (bench/engine.sh)
#     train     training speed and accuracy vs PyTorch, jsc-s on letter (bench/train_compare.sh)
#     latency   profile's batch-1 latency vs PyTorch eager, float and 8-bit (bench/latency.sh)
#     quant     quantize + evaluate one config vs PyTorch the MASE way (bench/quant_eval.sh)
#     lab3      MASE lab 3's 16-config accuracy table, qsearch beside PyTorch (bench/lab3_table.sh)
#     samplers  sampler curves vs Optuna on a synthetic table (bench/sampler_peer.sh)
#     search    trials/s vs a PyTorch + Optuna loop, jsc-s on letter (bench/search_torch_optuna.py)
# With no NAME, runs every benchmark. Datasets come from the cache (qsearch data fetch).
set -eu
BUILD=${1:-build}
[ $# -gt 0 ] && shift
what=${1:-all}
[ $# -gt 0 ] && shift
CC=${CC:-cc}
export QS_BIN="$BUILD/qsearch"

say() { printf '\n== %s (%s, %s, %s cores)\n' "$1" "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(nproc)"; }

bench_kernels() {
    make -s BUILD="$BUILD" "$BUILD/libqsearch.a" >&2
    mkdir -p "$BUILD/bench"
    if [ ! -f /usr/include/dnnl.h ]; then
        echo "bench kernels: oneDNN headers missing (scripts/deps.sh --bench)" >&2
        return 1
    fi
    $CC -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Werror -Iinclude -D_POSIX_C_SOURCE=200809L \
        bench/kernels.c "$BUILD/libqsearch.a" -ldnnl -lpthread -lm -o "$BUILD/bench/kernels"
    OMP_NUM_THREADS=1 "$BUILD/bench/kernels" "$@"
}

# A jsc-s trained on letter, shared by the benchmarks that need one.
jsc_s() {
    model="$BUILD/bench/jsc-s.safetensors"
    if [ ! -f "$model" ]; then
        mkdir -p "$BUILD/bench"
        "$QS_BIN" train --model jsc-s --data letter -o "$model" >&2
    fi
    echo "$model"
}

run_one() {
    name=$1
    shift
    say "$name"
    case "$name" in
        kernels) bench_kernels "$@" ;;
        engine) sh bench/engine.sh "$BUILD" "$@" ;;
        train) sh bench/train_compare.sh "$BUILD" jsc-s ;;
        latency) sh bench/latency.sh "$BUILD" "$(jsc_s)" ;;
        quant) BUILD="$BUILD" sh bench/quant_eval.sh "$(jsc_s)" ;;
        lab3) sh bench/lab3_table.sh "$(jsc_s)" ;;
        samplers) sh bench/sampler_peer.sh "$BUILD" ;;
        search) /usr/bin/python3 bench/search_torch_optuna.py --qsearch "$QS_BIN" --model "$(jsc_s)" --trials 200 ;;
        *) echo "bench/run.sh: unknown benchmark '$name' (kernels engine train latency quant lab3 samplers search)" >&2
           return 2 ;;
    esac
}

make -s BUILD="$BUILD" all >&2
if [ "$what" = all ]; then
    for b in kernels engine train latency quant lab3 samplers search; do
        run_one "$b" || echo "bench/run.sh: $b failed" >&2
    done
else
    run_one "$what" "$@"
fi
