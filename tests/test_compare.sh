#!/bin/sh
# qsearch compare end to end on a tiny model and a 1,728-configuration space
# (CSV data written here, nothing downloaded): output files and their shapes,
# --json purity, curves in the study, the study reused by a second run (nothing
# evaluated again, same results), a replay equal to a real `qsearch search`
# with the same sampler and seed, refusals and bad flags (exit 2).
. tests/lib.sh
use_tmp

# 5 classes, 16 features, 2000 rows: one informative feature per class; jsc-toy on them.
jsc_toy_16x5 2000 7 6

# jsc-toy by name: each linear layer data_in {4,8} x weight {2,4,8} x bias {8,16}: 12^3 = 1728.
space_1728 "$T/s.toml" tpe

run_compare() { # run_compare DIR extra-args...
    dir=$1; shift
    "$Q" compare --config "$T/s.toml" --model "$T/toy.safetensors" --data "$D" --study "$T/study.db" \
        --samplers random,tpe,nsgaii,bruteforce --repeats 5 --trials 40 -o "$dir" "$@"
}

expect 0 "compare --json" -- run_compare "$T/c1" --json --jobs 2
stderr_has "1728 configurations" "space size printed"
stderr_has "trials to within 1% of the exhaustive optimum" "within table printed"
stderr_has "best-so-far objective, median [q1, q3] over 5 repeats" "curve table printed"
pycheck "--json is compare.json; summary shape" '
import json, sys
d = json.load(open(sys.argv[1])); f = json.load(open(sys.argv[2]))
def same(a, b):  # stdout has 10 significant digits, the file all of them
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b
assert same(d, f), "stdout differs from compare.json"
assert d["space_size"] == 1728 and d["repeats"] == 5 and d["trials"] == 40 and d["duplicates"] == "skip"
assert [s["sampler"] for s in d["samplers"]] == ["random", "tpe", "nsgaii", "bruteforce"]
assert len(d["optimum"]["params"]) == 9
for s in d["samplers"]:
    c = s["best_so_far"]
    assert all(len(c[k]) == 40 for k in ("median", "q1", "q3"))
    assert all(a <= m <= b for a, m, b in zip(c["q1"], c["median"], c["q3"]) if m is not None)
    w = s["trials_to_within"]
    assert len(w["per_repeat"]) == 5 and w["never"] == sum(x is None for x in w["per_repeat"])
    assert w["never"] + w["reached"] == 5 and s["seeds"] == [0, 1, 2, 3, 4]
' "$T/out" "$T/c1/compare.json"
pycheck "CSV files: shapes, quartiles and within counts from runs.csv" '
import csv, json, math, sys
d = sys.argv[1]
curves = list(csv.DictReader(open(d + "/curves.csv")))
runs = list(csv.DictReader(open(d + "/runs.csv")))
within = list(csv.DictReader(open(d + "/within.csv")))
table = list(csv.reader(open(d + "/table.csv")))
assert len(curves) == 4 * 40 and len(runs) == 4 * 5 * 40 and len(within) == 4 * 5
assert len(table) == 1 + 1728 and len(table[0]) == 10 and table[0][-1] == "value"
opt = max(float(r[-1]) for r in table[1:] if r[-1])
j = json.load(open(d + "/compare.json"))
assert abs(j["optimum"]["value"] - opt) < 1e-12
def pct(x, q):  # numpy percentile, linear
    x = sorted(x); p = q * (len(x) - 1); lo = int(math.floor(p))
    return x[lo] if lo + 1 >= len(x) else x[lo] + (p - lo) * (x[lo + 1] - x[lo])
for c in curves:
    b = [float(r["best"]) for r in runs if r["sampler"] == c["sampler"] and r["trial"] == c["trial"]]
    assert len(b) == 5
    for k, q in (("median", .5), ("q1", .25), ("q3", .75)):
        assert abs(float(c[k]) - pct(b, q)) < 1e-12, (c, k)
for w in within:
    b = [float(r["best"]) for r in runs if r["sampler"] == w["sampler"] and r["repeat"] == w["repeat"]]
    hit = [i + 1 for i, x in enumerate(b) if abs(x - opt) <= 0.01 * abs(opt)]
    assert (str(hit[0]) if hit else "") == w["trials"], (w, hit[:1])
for r in runs:  # best so far is monotone and never beats the optimum
    assert float(r["best"]) <= opt + 1e-15
' "$T/c1"
pycheck "curves in the study" '
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("select sampler, count(distinct repeat), count(*), min(trial_index), max(trial_index) from curves group by sampler order by sampler").fetchall()
assert rows == [("bruteforce", 5, 200, 0, 39), ("nsgaii", 5, 200, 0, 39), ("random", 5, 200, 0, 39), ("tpe", 5, 200, 0, 39)], rows
n = con.execute("select count(*) from trials where state = ?", ("complete",)).fetchone()[0]
assert n == 1728, n
' "$T/study.db"

# Second run on the same study: nothing evaluated again, identical results.
expect 0 "compare again" -- run_compare "$T/c2"
stderr_has "exhaustive pass: 0 evaluated here" "study reused"
if cmp -s "$T/c1/runs.csv" "$T/c2/runs.csv" && cmp -s "$T/c1/table.csv" "$T/c2/table.csv"; then ok
else bad "same seeds, same results"; fi
expect 0 "compare, other seeds" -- run_compare "$T/c3" --seed 100 --samplers tpe
if cmp -s "$T/c1/curves.csv" "$T/c3/curves.csv"; then bad "other seeds, other curves"; else ok; fi
expect 0 "compare, duplicates counted" -- run_compare "$T/c4" --duplicates count --samplers tpe
pycheck "duplicates counted: TPE repeats itself, so the skip replay (checked against search below) replaced some" '
import csv, json, sys
assert json.load(open(sys.argv[1] + "/compare.json"))["duplicates"] == "count"
r = lambda d: [x["value"] for x in csv.DictReader(open(d + "/runs.csv")) if x["sampler"] == "tpe" and x["seed"] == "3"]
assert r(sys.argv[1]) != r(sys.argv[2])' "$T/c4" "$T/c1"
pycheck "counted replays are their own curves in the study" '
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
n = dict(con.execute("select sampler, count(*) from curves group by sampler").fetchall())
assert n == {"bruteforce": 200, "nsgaii": 200, "random": 200, "tpe": 200, "tpe (duplicates counted)": 200}, n' \
    "$T/study.db"
expect 0 "report draws the curves" -- "$Q" report --study "$T/study.db" -o "$T/r.html"
if grep -q "tpe" "$T/r.html" && grep -q "sec-curves" "$T/r.html"; then ok; else bad "report has the curves"; fi

# A replay is what `qsearch search` does with the same sampler and seed (fresh study).
for s in tpe random; do
    expect 0 "search $s seed 3" -- "$Q" search --config "$T/s.toml" --model "$T/toy.safetensors" --data "$D" \
        --sampler $s --seed 3 --trials 40 -o "$T/s-$s"
    pycheck "replay of $s seed 3 equals the search" '
import csv, sys
t = list(csv.DictReader(open(sys.argv[1] + "/trials.csv")))
r = [x for x in csv.DictReader(open(sys.argv[2] + "/runs.csv")) if x["sampler"] == sys.argv[3] and x["seed"] == "3"]
assert len(t) == 40 and len(r) == 40
a = [float(x["objective"]) for x in sorted(t, key=lambda x: int(x["number"]))]
b = [float("%.10g" % float(x["value"])) for x in sorted(r, key=lambda x: int(x["trial"]))]  # trials.csv: %.10g
assert a == b, [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y][:3]
' "$T/s-$s" "$T/c1" "$s"
done

# A study holding a 40-trial TPE search is completed, not redone, and gives the same table and replays.
expect 0 "compare on a TPE study" -- "$Q" compare --config "$T/s.toml" --model "$T/toy.safetensors" --data "$D" \
    --study "$T/s-tpe/study.db" --samplers random,tpe,nsgaii,bruteforce --repeats 5 --trials 40 -o "$T/c5"
stderr_has "exhaustive pass: 1688 evaluated here" "only the missing configurations evaluated"
if cmp -s "$T/c1/runs.csv" "$T/c5/runs.csv" && cmp -s "$T/c1/table.csv" "$T/c5/table.csv"; then ok
else bad "completed study gives the same results"; fi
# A study of another space is refused.
sed -e 's/bias_width = \[8, 16\]/bias_width = [4, 8]/' "$T/s.toml" > "$T/other.toml"
expect 2 "study of another space" -- "$Q" compare --config "$T/other.toml" --model "$T/toy.safetensors" --data "$D" \
    --study "$T/study.db" -o "$T/e"

# Refusals and bad flags: exit 2, nothing evaluated.
expect 2 "space over --max-configs" -- run_compare "$T/e" --max-configs 1000
stderr_has "more than --max-configs 1000" "size refusal says why"
sed -e 's/average_bitwidth.scale = -0.01/latency.scale = -1e-6/' "$T/s.toml" > "$T/lat.toml"
expect 2 "latency objective" -- "$Q" compare --config "$T/lat.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "latency" "latency refusal says why"
sed -e 's/sampler = "tpe"/sampler = "tpe"\nsum_scaled_metrics = false/' "$T/s.toml" > "$T/mo.toml"
expect 2 "several objectives" -- "$Q" compare --config "$T/mo.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "single objective" "multi-objective refusal says why"
expect 2 "unknown sampler" -- run_compare "$T/e" --samplers tpe,annealing
stderr_has "annealing" "unknown sampler named"
expect 2 "sampler twice" -- run_compare "$T/e" --samplers tpe,TPE
expect 2 "--repeats 0" -- run_compare "$T/e" --repeats 0
expect 2 "--trials -1" -- run_compare "$T/e" --trials -1
expect 2 "--trials x" -- run_compare "$T/e" --trials x
expect 2 "--duplicates maybe" -- run_compare "$T/e" --duplicates maybe
expect 2 "--within 2" -- run_compare "$T/e" --within 2
expect 2 "--seed -1" -- run_compare "$T/e" --seed -1
expect 2 "no --config" -- "$Q" compare --model "$T/toy.safetensors"
expect 2 "no --model" -- "$Q" compare --config "$T/s.toml"
expect 2 "unknown option" -- "$Q" compare --config "$T/s.toml" --model "$T/toy.safetensors" --bogus
expect 0 "--help" -- "$Q" compare --help
check "--help prints usage on stdout" grep -q "qsearch compare --config" "$T/out"
check "no outputs after an error" test ! -e "$T/e/compare.json"

finish
