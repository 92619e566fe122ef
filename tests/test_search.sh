#!/bin/sh
# qsearch search end to end: --json purity, located config errors (exit 2),
# resume after kill -9 (nothing finished lost or repeated), two processes on
# one study (every configuration exactly once). Small data written here.
. tests/lib.sh
use_tmp

# 5 classes, 16 features, 4000 rows: one informative feature per class; jsc-toy on them.
jsc_toy_16x5 4000 11 8

# jsc-toy, by name: each linear layer data_in {4,8} x weight {2,4,8} x bias {8,16}: 12^3 = 1728.
space_1728 "$T/big.toml" bruteforce
SIZE=1728

# --json: stdout is exactly best.json
space_1728 "$T/tpe.toml" tpe
expect 0 "tpe --json" -- "$Q" search --config "$T/tpe.toml" --model "$T/toy.safetensors" --data "$D" --trials 12 \
    -o "$T/o1" --json
pycheck "--json is best.json" 'import json,sys; d=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]));
assert d.keys() == b.keys() and d["best"][0]["params"] == b["best"][0]["params"] and d["mode"] == "single" and len(d["best"]) == 1 and d["trials"]["total"] == 12
assert "test" in d["best"][0] and "seq_blocks_8/config/weight_width" in d["best"][0]["params"]' \
    "$T/out" "$T/o1/best.json"
stderr_has "1728 configurations" "space size printed"
check "outputs written" test -s "$T/o1/log.json" -a -s "$T/o1/trials.csv" -a -s "$T/o1/study.db"
pycheck "log.json lists every trial" 'import json,sys; d=json.load(open(sys.argv[1])); t=d["trials"]
assert len(t) == 12 and [x["number"] for x in t] == list(range(12)) and len(d["params"]) == 9
assert all(x["state"] == "complete" and len(x["params"]) == 9 and "accuracy" in x["metrics"] for x in t)
assert len({tuple(x["params"].values()) for x in t}) == 12' "$T/o1/log.json"
if ls -a "$T/o1" | grep -q '\.tmp\.'; then bad "temporary files left"; else ok; fi
if head -1 "$T/o1/trials.csv" | grep -q '^number,state,seq_blocks_2/config/data_in_width,'; then ok; else bad "trials.csv header"; fi

# config errors: exit 2, file:line:col
space_1728 "$T/e1.toml" annealing
expect 2 "unknown sampler" -- "$Q" search --config "$T/e1.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "e1.toml:23:11" "unknown sampler located"
sed -e '0,/weight_width = \[2, 4, 8\]/s//weight_width = [2, 4, 33]/' "$T/big.toml" > "$T/e2.toml"
expect 2 "width 33" -- "$Q" search --config "$T/e2.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "e2.toml:10:23" "width 33 located"
sed -e 's/seq_blocks_5/seq_blocks_50/' "$T/big.toml" > "$T/e3.toml"
expect 2 "unknown layer" -- "$Q" search --config "$T/e3.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "unknown layer 'seq_blocks_50'" "unknown layer named"
sed -e 's/average_bitwidth.scale/avg_bits.scale/' "$T/big.toml" > "$T/e4.toml"
expect 2 "unknown metric" -- "$Q" search --config "$T/e4.toml" --model "$T/toy.safetensors" --data "$D" -o "$T/e"
stderr_has "unknown metric 'avg_bits'" "unknown metric named"
expect 2 "--sampler bogus" -- "$Q" search --config "$T/big.toml" --model "$T/toy.safetensors" --sampler bogus -o "$T/e"
expect 2 "no --config" -- "$Q" search --model "$T/toy.safetensors"
check "no outputs after a config error" test ! -e "$T/e/best.json"

# kill -9 in the middle, then resume: every configuration exactly once, finished ones kept.
# 216 configurations, slowed down by a latency measurement (2 ms budget) per trial.
sed -e 's/weight_width = \[2, 4, 8\]/weight_width = [2, 4, 8]/; s/bias_width = \[8, 16\]/bias_width = [8]/' \
    -e 's/^average_bitwidth.scale = -0.01$/average_bitwidth.scale = -0.01\nlatency.scale = -1e-9/' "$T/big.toml" > "$T/kill.toml"
printf '[search.strategy.hw_runner.latency]\nbudget_s = 0.002\nwarmup_s = 0.0\n' >> "$T/kill.toml"
KSIZE=216
"$Q" search --config "$T/kill.toml" --model "$T/toy.safetensors" --data "$D" --study "$T/k/s.db" -o "$T/k" \
    --jobs 2 > /dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ]; do # until some trials are committed (at most 10 s)
    sleep 0.1
    i=$((i + 1))
    n=0
    if command -v sqlite3 > /dev/null && [ -f "$T/k/s.db" ]; then
        n=$(sqlite3 "$T/k/s.db" "select count(*) from trials where state='complete'" 2>/dev/null || echo 0)
    elif [ $i -ge 8 ]; then n=1; fi
    [ "${n:-0}" -gt 0 ] && break
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if command -v sqlite3 > /dev/null; then
    sqlite3 "$T/k/s.db" "select number, metrics from trials where state='complete' order by number" > "$T/before"
    nb=$(wc -l < "$T/before")
    if [ "$nb" -gt 0 ] && [ "$nb" -lt $KSIZE ]; then ok; else bad "kill -9 mid-search left $nb of $KSIZE complete"; fi
fi
expect 0 "resume" -- "$Q" search --config "$T/kill.toml" --model "$T/toy.safetensors" --data "$D" --study "$T/k/s.db" \
    -o "$T/k" --jobs 2 --json
pycheck "after kill and resume every configuration once" 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); n=int(sys.argv[2])
keys=[k for k in rows[0] if "/config/" in k]
assert len(rows) == n, (len(rows), n)
assert len({tuple(r[k] for k in keys) for r in rows}) == n
assert all(r["state"] == "complete" for r in rows)' "$T/k/trials.csv" $KSIZE
if command -v sqlite3 > /dev/null; then
    sqlite3 "$T/k/s.db" "select number, metrics from trials where state='complete' and number <= \
        (select max(number) from trials where number in ($(cut -d'|' -f1 "$T/before" | paste -sd, -))) \
        and number in ($(cut -d'|' -f1 "$T/before" | paste -sd, -)) order by number" > "$T/after"
    if cmp -s "$T/before" "$T/after"; then ok; else bad "trials finished before the kill changed after resume"; fi
fi

# two processes on one new study: together they run every configuration exactly once
for w in 1 2; do
    "$Q" search --config "$T/big.toml" --model "$T/toy.safetensors" --data "$D" --study "$T/c/s.db" -o "$T/c$w" \
        --json > "$T/c$w.json" 2> "$T/c$w.err" &
    eval "p$w=\$!"
done
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ]; then ok; else bad "concurrent workers exit $r1 $r2: $(head -c 300 "$T/c1.err") $(head -c 300 "$T/c2.err")"; fi
pycheck "two workers: each configuration exactly once" 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); n=int(sys.argv[3])
assert a["evaluated_here"] + b["evaluated_here"] == n, (a["evaluated_here"], b["evaluated_here"])
assert a["trials"]["complete"] == n or b["trials"]["complete"] == n' "$T/c1.json" "$T/c2.json" $SIZE
if command -v sqlite3 > /dev/null; then
    got=$(sqlite3 "$T/c/s.db" "select count(*), count(distinct config_hash), sum(state='complete') from trials")
    if [ "$got" = "$SIZE|$SIZE|$SIZE" ]; then ok; else bad "two workers: study holds $got, expected $SIZE each"; fi
fi

pycheck "two workers: per-run keys, wall_s as their union, test figures" \
    'import json,sqlite3,sys; db=sqlite3.connect(sys.argv[1]); meta=dict(db.execute("select key, value from meta"))
runs=[json.loads(v) for k, v in meta.items() if k.startswith("run:")]
assert len(runs) == 2 and sum(r["trials"] for r in runs) == int(sys.argv[2]), runs
w=float(meta["wall_s"]); assert max(r["wall_s"] for r in runs) - 2e-3 <= w <= sum(r["wall_s"] for r in runs) + 2e-3, (w, runs)
best=json.load(open(sys.argv[3]))["best"][0]; test=json.loads(meta["test"])
assert test[str(best["number"])]["accuracy"] == best["test"]["accuracy"], (test, best)' \
    "$T/c/s.db" $SIZE "$T/c1/best.json"

# progress: on a terminal one \r-updated line, bold unless NO_COLOR; plain lines otherwise
if command -v script > /dev/null; then
    for nc in "" 1; do
        NO_COLOR=$nc script -qec "$Q search --config $T/tpe.toml --model $T/toy.safetensors --data $D --trials 6 \
            -o $T/tty$nc" /dev/null > "$T/tty$nc.out" 2>&1 < /dev/null
    done
    if grep -q "$(printf '\r')" "$T/tty.out" && grep -q "$(printf '\033')\[1m6/6" "$T/tty.out"; then ok
    else bad "progress on a terminal: \\r line in bold"; fi
    if grep -q "$(printf '\r')6/6 trials  best " "$T/tty1.out" && ! grep -q "$(printf '\033')\[1m" "$T/tty1.out"; then ok
    else bad "progress on a terminal with NO_COLOR: \\r line without bold"; fi
fi
expect 0 "progress without a terminal" -- "$Q" search --config "$T/tpe.toml" --model "$T/toy.safetensors" --data "$D" \
    --trials 4 -o "$T/plain"
if grep -q "^search: 4/4 trials, best [0-9.]*, pruned 0" "$T/err" && ! grep -q "$(printf '\033')" "$T/err"; then ok
else bad "plain progress lines: $(grep '4/4' "$T/err")"; fi
if [ "$(grep -c 'configurations' "$T/err")" -eq 1 ]; then ok; else bad "space size printed more than once"; fi

finish
