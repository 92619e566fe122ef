#!/bin/sh
# Sample-efficiency peer check: qsearch's samplers (bench/sampler_curve.c) and
# Optuna's (bench/optuna_peer.py, Debian's python3-optuna) on the same lookup
# objective table; best-so-far curves (median, quartiles over repeats) as CSV.
# Usage: bench/sampler_peer.sh [BUILD_DIR] [TABLE.csv]   (TRIALS, REPEATS from env)
# Without TABLE a synthetic jsc-toy-shaped table (64,000 configurations) is made.
# MO=1 also runs the two-objective version (accuracy-like max, average weight
# width min; hypervolume against ref (0, 8.5)); Optuna's side takes minutes.
set -e
BUILD=${1:-build}
TABLE=$2
TRIALS=${TRIALS:-100}
REPEATS=${REPEATS:-20}
OUT="$BUILD/bench"
mkdir -p "$OUT"
# Only the sampler sources and core are needed; this keeps the check independent
# of the rest of the library.
cc -std=c11 -O2 -Wall -Wextra -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L \
    bench/sampler_curve.c src/search/sampler.c src/search/tpe.c src/search/nsga2.c \
    src/search/pareto.c src/core/*.c -lm -o "$OUT/sampler_curve"
if [ -z "$TABLE" ]; then
    TABLE="$OUT/synthetic_table.csv"
    [ -f "$TABLE" ] || /usr/bin/python3 bench/optuna_peer.py --make-table "$TABLE"
fi
"$OUT/sampler_curve" --table "$TABLE" --samplers tpe,random,nsgaii \
    --trials "$TRIALS" --repeats "$REPEATS" > "$OUT/curve_qsearch.csv"
/usr/bin/python3 bench/optuna_peer.py --table "$TABLE" --samplers tpe,random,nsgaii \
    --trials "$TRIALS" --repeats "$REPEATS" > "$OUT/curve_optuna.csv"
# Side by side at a few trial counts.
echo "trial  sampler   qsearch median [q1, q3]           optuna median [q1, q3]"
for s in tpe random nsgaii; do
    for t in $(printf '%s\n' 10 20 50 "$TRIALS" | sort -n -u); do
        q=$(grep "^qsearch,$s,$t," "$OUT/curve_qsearch.csv" | cut -d, -f4-6)
        o=$(grep "^optuna,$s,$t," "$OUT/curve_optuna.csv" | cut -d, -f4-6)
        [ -n "$q" ] && printf '%5s  %-8s  %-32s %s\n' "$t" "$s" "$q" "$o"
    done
done
echo "curves: $OUT/curve_qsearch.csv $OUT/curve_optuna.csv"
[ "${MO:-0}" = 1 ] || exit 0
MOT="$OUT/synthetic_mo.csv"
[ -f "$MOT" ] || /usr/bin/python3 bench/optuna_peer.py --make-table "$MOT" --objectives 2
set -- --table "$MOT" --direction maximize,minimize --ref 0,8.5 --samplers tpe,random,nsgaii \
    --trials "$TRIALS" --repeats "$REPEATS"
"$OUT/sampler_curve" "$@" > "$OUT/curve_mo_qsearch.csv"
/usr/bin/python3 bench/optuna_peer.py "$@" > "$OUT/curve_mo_optuna.csv"
echo "hypervolume: trial  sampler   qsearch median [q1, q3]    optuna median [q1, q3]"
for s in tpe random nsgaii; do
    for t in $(printf '%s\n' 10 20 50 "$TRIALS" | sort -n -u); do
        q=$(grep "^qsearch,$s,$t," "$OUT/curve_mo_qsearch.csv" | cut -d, -f4-6)
        o=$(grep "^optuna,$s,$t," "$OUT/curve_mo_optuna.csv" | cut -d, -f4-6)
        [ -n "$q" ] && printf '%5s  %-8s  %-32s %s\n' "$t" "$s" "$q" "$o"
    done
done
echo "curves: $OUT/curve_mo_qsearch.csv $OUT/curve_mo_optuna.csv"
