#!/bin/sh
# CLI contract: exit codes (0 ok, 1 runtime, 2 bad usage/input), --help, --json
# purity (stdout holds one JSON document), no partial output files on failure.
# Runs on small files written here; needs no network.
Q=${QS_BIN:-build/qsearch}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...: checks the exit status; stderr kept in $T/err.
expect() {
    code=$1; what=$2; shift 3
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
    if [ "$rc" -eq "$code" ]; then ok; else bad "$what: exit $rc, expected $code: $(head -c 300 "$T/err")"; fi
}

# stderr_has TEXT DESCRIPTION: the last command's stderr contains TEXT.
stderr_has() {
    if grep -qF -- "$1" "$T/err"; then ok; else bad "$2: stderr lacks '$1': $(head -c 300 "$T/err")"; fi
}

# A small separable CSV: 3 classes, 4 features, header, string labels.
awk 'BEGIN { srand(7); print "f1,f2,f3,f4,label";
  for (i = 0; i < 300; i++) { c = i % 3;
    printf "%.3f,%.3f,%.3f,%.3f,%s\n", c + rand() * 0.5, rand(), -c + rand() * 0.5, rand(), substr("abc", c + 1, 1) } }' > "$T/toy.csv"

expect 2 "no command" -- "$Q"
expect 0 "--help" -- "$Q" --help
expect 0 "--version" -- "$Q" --version
expect 2 "unknown command" -- "$Q" frobnicate
stderr_has "unknown command" "unknown command message"
for c in data train eval; do
    expect 0 "$c --help" -- "$Q" $c --help
done
expect 0 "data info --help" -- "$Q" data info --help
expect 2 "unknown option" -- "$Q" train --bogus 1
stderr_has "--bogus" "unknown option is named"
expect 2 "bad number" -- "$Q" train --model jsc-tiny -o "$T/m.safetensors" --epochs three
expect 2 "train without -o" -- "$Q" train --model jsc-tiny

expect 0 "data info csv" -- "$Q" data info "csv:$T/toy.csv" --json
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["classes"]==3 and d["features"]==4' "$T/out" 2>/dev/null; then ok; else bad "data info --json is one JSON document with classes 3, features 4"; fi

expect 2 "missing csv" -- "$Q" data info "csv:$T/nope.csv"
stderr_has "nope.csv" "missing file is named"
printf 'a,b,label\n1,2,x\n3,x\n' > "$T/ragged.csv"
expect 2 "ragged csv" -- "$Q" data info "csv:$T/ragged.csv"
stderr_has "ragged.csv:3" "ragged row names file:line"
expect 2 "unknown dataset" -- "$Q" data info nosuchdata

expect 2 "unknown arch" -- "$Q" train --model jsc-huge --data "csv:$T/toy.csv" -o "$T/m.safetensors"
stderr_has "jsc-huge" "unknown arch is named"
if [ ! -e "$T/m.safetensors" ]; then ok; else bad "no model file after a failed train"; fi
expect 2 "mlp width mismatch" -- "$Q" train --model mlp:5-8-3 --data "csv:$T/toy.csv" -o "$T/m.safetensors"

expect 0 "train tiny" -- "$Q" train --model jsc-tiny --data "csv:$T/toy.csv" -o "$T/m.safetensors" --epochs 3
expect 0 "eval json" -- "$Q" eval --model "$T/m.safetensors" --json --logits "$T/logits.npy"
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert 0<=d["accuracy"]<=1 and d["split"]=="test" and len(d["confusion"])==3' "$T/out" 2>/dev/null; then ok; else bad "eval --json document"; fi
if [ -s "$T/logits.npy" ]; then ok; else bad "eval --logits wrote nothing"; fi
expect 2 "eval bad split" -- "$Q" eval --model "$T/m.safetensors" --split holdout
expect 2 "eval missing model" -- "$Q" eval --model "$T/none.safetensors"
stderr_has "none.safetensors" "missing model is named"
head -c 100 "$T/m.safetensors" > "$T/trunc.safetensors"
expect 2 "eval truncated model" -- "$Q" eval --model "$T/trunc.safetensors"
awk 'BEGIN { srand(3); print "a,b,label"; for (i = 0; i < 50; i++) printf "%f,%f,%d\n", rand(), rand(), i % 3 }' > "$T/two.csv"
expect 2 "eval feature mismatch" -- "$Q" eval --model "$T/m.safetensors" --data "csv:$T/two.csv"
stderr_has "features" "feature mismatch explained"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
