#!/bin/sh
# Sample efficiency on a real objective table: `qsearch compare` (exhaustive
# pass, then qsearch's samplers replayed with REPEATS seeds) and Optuna 3.1's
# samplers (bench/optuna_peer.py, Debian's python3-optuna) on the same exported
# table (table.csv: choice index per parameter + objective). Prints the
# best-so-far curves side by side (median [q1, q3] over seeds) and the trials
# needed to get within 1% of the exhaustive optimum.
#
# Usage: bench/search_peer.sh BUILD_DIR CONFIG.toml MODEL.safetensors [DATA]
#   env: TRIALS (200), REPEATS (20), SAMPLERS (tpe,random,nsgaii), JOBS (2),
#        OUT (BUILD_DIR/bench/search_peer), STUDY (OUT/study.db: reused when present)
# Example (jsc-toy, 64,000 configurations):
#   qsearch train --model jsc-toy --data letter -o /tmp/cmp-jsc-toy.safetensors
#   bench/search_peer.sh build configs/search-jsc-toy-64k.toml /tmp/cmp-jsc-toy.safetensors
#
# qsearch is run twice on the same table: "skip" replaces a repeated proposal
# as `qsearch search` does (a configuration is never evaluated twice), "count"
# counts every ask as a trial, duplicates included, which is what Optuna's loop
# does; "count" is the like-for-like column.
set -e
[ $# -ge 3 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
BUILD=$1
CONFIG=$2
MODEL=$3
DATA=${4:-}
TRIALS=${TRIALS:-200}
REPEATS=${REPEATS:-20}
SAMPLERS=${SAMPLERS:-tpe,random,nsgaii}
JOBS=${JOBS:-2}
OUT=${OUT:-$BUILD/bench/search_peer}
STUDY=${STUDY:-$OUT/study.db}
Q="$BUILD/qsearch"
mkdir -p "$OUT"
set -- --config "$CONFIG" --model "$MODEL" --study "$STUDY" --samplers "$SAMPLERS" \
    --trials "$TRIALS" --repeats "$REPEATS" --jobs "$JOBS"
[ -n "$DATA" ] && set -- "$@" --data "$DATA"
echo "== qsearch compare (duplicates skipped, as qsearch search)" >&2
/usr/bin/time -f "qsearch compare: %e s wall" "$Q" compare "$@" -o "$OUT/skip" 2> "$OUT/skip.log" ||
    { cat "$OUT/skip.log" >&2; exit 1; }
grep -E '^(compare|exhaustive|replayed|qsearch compare)' "$OUT/skip.log" >&2
echo "== qsearch compare (duplicates counted, as Optuna)" >&2
"$Q" compare "$@" --duplicates count -o "$OUT/count" 2> "$OUT/count.log" || { cat "$OUT/count.log" >&2; exit 1; }
DIR=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["direction"])' "$OUT/skip/compare.json")
echo "== Optuna on the same table ($OUT/skip/table.csv)" >&2
/usr/bin/time -f "optuna: %e s wall" /usr/bin/python3 bench/optuna_peer.py --table "$OUT/skip/table.csv" \
    --samplers "$SAMPLERS" --trials "$TRIALS" --repeats "$REPEATS" --direction "$DIR" \
    > "$OUT/curve_optuna.csv" 2> "$OUT/optuna.log" || { cat "$OUT/optuna.log" >&2; exit 1; }

# Side by side at a few trial counts.
cell() { # cell FILE PREFIX -> "median [q1, q3]"
    grep "^$2," "$1" | head -1 | awk -F, '{ if ($(NF-2) == "") print "-"; else printf "%.4f [%.4f, %.4f]\n", $(NF-2), $(NF-1), $NF }'
}
printf '%6s  %-8s  %-26s  %-26s  %s\n' trial sampler "qsearch (skip)" "qsearch (count)" "optuna 3.1"
for s in $(echo "$SAMPLERS" | tr , ' '); do
    for t in $(printf '%s\n' 10 20 50 100 200 500 "$TRIALS" | sort -n -u); do
        [ "$t" -le "$TRIALS" ] || continue
        printf '%6s  %-8s  %-26s  %-26s  %s\n' "$t" "$s" "$(cell "$OUT/skip/curves.csv" "$s,$t")" \
            "$(cell "$OUT/count/curves.csv" "$s,$t")" "$(cell "$OUT/curve_optuna.csv" "optuna,$s,$t")"
    done
done
echo
echo "trials to within 1% of the exhaustive optimum (median [q1, q3], repeats that never got there):"
/usr/bin/python3 - "$OUT" "$REPEATS" <<'EOF'
import json, sys
out, reps = sys.argv[1], int(sys.argv[2])
for mode in ("skip", "count"):
    d = json.load(open(f"{out}/{mode}/compare.json"))
    for s in d["samplers"]:
        w = s["trials_to_within"]
        f = lambda x: "inf" if x is None else f"{x:.1f}"
        print(f"  qsearch ({mode:5}) {s['sampler']:7} {f(w['median'])} [{f(w['q1'])}, {f(w['q3'])}]"
              f"  never: {w['never']}/{reps}")
print(f"  (optimum {d['optimum']['value']:.6g}, {d['space_size']} configurations)")
EOF
sed -n 's/^optuna \([a-z]*\): median trials to within 1% of the optimum /  optuna            \1 /p' "$OUT/optuna.log"
grep -h 'wall' "$OUT/skip.log" "$OUT/optuna.log" || true
echo "curves: $OUT/skip/curves.csv $OUT/count/curves.csv $OUT/curve_optuna.csv"
