#!/bin/sh
# Benchmarks against peers. Not part of `make test`.
#   bench/run.sh [BUILD] [kernels] [--quick]
#     kernels   qsearch's integer kernels vs oneDNN (libdnnl-dev) at W 1024x1024,
#               batch 1, 64, 1024, single-threaded (OMP_NUM_THREADS=1)
# With no target, runs every benchmark listed above.
set -eu
BUILD=${1:-build}
[ $# -gt 0 ] && shift
what=${1:-all}
[ $# -gt 0 ] && shift
CC=${CC:-cc}

build_lib() {
    make -s BUILD="$BUILD" "$BUILD/libqsearch.a" >&2
}

bench_kernels() {
    build_lib
    mkdir -p "$BUILD/bench"
    if [ ! -f /usr/include/dnnl.h ]; then
        echo "bench kernels: oneDNN headers missing (apt-get install libdnnl-dev, or scripts/deps.sh --peers)" >&2
        return 1
    fi
    $CC -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Werror -Iinclude -D_POSIX_C_SOURCE=200809L \
        bench/kernels.c "$BUILD/libqsearch.a" -ldnnl -lpthread -lm -o "$BUILD/bench/kernels"
    echo "== kernels ($(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores)"
    OMP_NUM_THREADS=1 "$BUILD/bench/kernels" "$@"
}

case "$what" in
    kernels) bench_kernels "$@" ;;
    all) bench_kernels "$@" ;;
    *) echo "bench/run.sh: unknown benchmark '$what' (kernels)" >&2; exit 2 ;;
esac
