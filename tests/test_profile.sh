#!/bin/sh
# qsearch profile: --json is one document with every key of DESIGN.md section 3,
# static numbers equal the hand values of tests/test_cost.c (jsc-tiny on 16
# features / 26 classes), quantized and float, batch B, scaled sum and
# forgiving factor, human output on stderr only, and bad inputs exit 2 with a
# message naming the problem. Data is a CSV written here; no network.
Q=${QS_BIN:-build/qsearch}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
PY=/usr/bin/python3
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...: checks the exit status; output in $T/out, $T/err.
expect() {
    code=$1; what=$2; shift 3
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
    if [ "$rc" -eq "$code" ]; then ok; else bad "$what: exit $rc, expected $code: $(head -c 300 "$T/err")"; fi
}

stderr_has() {
    if grep -qF -- "$1" "$T/err"; then ok; else bad "$2: stderr lacks '$1': $(head -c 300 "$T/err")"; fi
}

# jcheck FILE DESCRIPTION PYTHON-EXPRESSION: the expression over d (the parsed document) is true.
jcheck() {
    if $PY -c 'import json,math,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$3" \
        2> "$T/pyerr"; then ok; else bad "$2: $3 $(head -c 300 "$T/pyerr")"; fi
}

# 16 features, 26 classes (letter's shape), 20 rows per class.
awk 'BEGIN { srand(11); printf "f1"; for (j = 2; j <= 16; j++) printf ",f%d", j; print ",label";
  for (i = 0; i < 520; i++) { c = i % 26; for (j = 0; j < 16; j++) printf "%.3f,", (j == c % 16) * (1 + c / 16) + rand() * 0.3;
    print substr("ABCDEFGHIJKLMNOPQRSTUVWXYZ", c + 1, 1) } }' > "$T/l16.csv"
cat > "$T/int8.toml" <<'EOF'
[passes.quantize]
by = "type"
[passes.quantize.default.config]
name = "NA"
[passes.quantize.linear.config]
name = "integer"
data_in_width = 8
weight_width = 8
bias_width = 8
[passes.quantize.relu.config]
name = "integer"
data_in_width = 8
EOF

expect 0 "profile --help" -- "$Q" profile --help
expect 0 "train" -- "$Q" train --model jsc-tiny --data "csv:$T/l16.csv" -o "$T/m.safetensors" --epochs 2
M="$T/m.safetensors"
B="--latency-budget 0.05"

# float, JSON
expect 0 "profile float json" -- "$Q" profile --model "$M" $B --json
cp "$T/out" "$T/float.json"
jcheck "$T/float.json" "every DESIGN key" \
  'all(k in d for k in ["accuracy","accuracy_macro","accuracy_ci95","loss","samples","split","latency","throughput_sps","params","model_size_bits","avg_bitwidth","memory_density","macs","flops","bitops","cpu_util","peak_rss_bytes","energy","layers","engine"])'
jcheck "$T/float.json" "latency keys" \
  'all(k in d["latency"] for k in ["batch","median_ns","p95_ns","ci95_ns","runs","noisy"]) and d["latency"]["batch"]==1 and len(d["latency"]["ci95_ns"])==2'
jcheck "$T/float.json" "energy keys" \
  'all(k in d["energy"] for k in ["joules","watts","source"]) and d["energy"]["source"] in ("rapl","nvml","model") and d["energy"]["joules"]>0'
jcheck "$T/float.json" "float hand values (test_cost.c)" \
  'd["params"]==474 and d["model_size_bits"]==16192 and d["macs"]==416 and d["flops"]==932 and d["bitops"]==425984 and d["avg_bitwidth"]==32 and d["memory_density"]==1'
jcheck "$T/float.json" "quality" \
  '0<=d["accuracy"]<=1 and d["split"]=="test" and d["samples"]==104 and d["accuracy_ci95"][0]<=d["accuracy"]<=d["accuracy_ci95"][1] and d["loss"]>0'
jcheck "$T/float.json" "measured region" \
  '0<d["cpu_util"]<=1.05 and d["peak_rss_bytes"]>0 and d["latency"]["median_ns"]>0 and d["latency"]["ci95_ns"][0]<=d["latency"]["median_ns"]<=d["latency"]["ci95_ns"][1] and d["engine"]=="emulate"'
jcheck "$T/float.json" "layers" \
  'len(d["layers"])==4 and d["layers"][2]["name"]=="seq_blocks_2" and d["layers"][2]["bitops"]==425984 and d["layers"][2]["weight"]=="float" and abs(sum(l["energy_share"] for l in d["layers"])-1)<1e-9'

# int8, JSON
expect 0 "profile int8 json" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B --json
cp "$T/out" "$T/int8.json"
jcheck "$T/int8.json" "int8 hand values" \
  'd["params"]==474 and d["model_size_bits"]==5584 and d["bitops"]==26624 and d["avg_bitwidth"]==8 and d["memory_density"]==4 and d["flops"]==932'
jcheck "$T/int8.json" "int8 layer formats" \
  'd["layers"][2]["weight"].startswith("integer(width=8") and d["layers"][1]["data_in_bits"]==8 and d["quant"].endswith("int8.toml")'
if $PY -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a["energy"]["joules"]<b["energy"]["joules"] or a["energy"]["source"]!="model" else 1)' "$T/int8.json" "$T/float.json"; then ok; else bad "int8 model energy below float"; fi

# human output goes to stderr only
expect 0 "profile human" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B
if [ ! -s "$T/out" ]; then ok; else bad "human output leaked to stdout"; fi
stderr_has "model_size_bits 5584" "human summary"
stderr_has "seq_blocks_2   linear" "human layer table"
stderr_has "int8.4" "compact formats in the table"

# batch B, scaled sum, forgiving factor
expect 0 "profile batch 4 + combined" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B --batch 4 --json \
    --scaled "accuracy:1.0,average_bitwidth:-0.2" --forgiving default
cp "$T/out" "$T/b4.json"
jcheck "$T/b4.json" "latency_batch" \
  'd["latency"]["batch"]==1 and d["latency_batch"]["batch"]==4 and abs(d["throughput_sps"]-4e9/d["latency_batch"]["median_ns"])<1e-6*d["throughput_sps"]'
jcheck "$T/b4.json" "scaled sum = accuracy - 0.2 x 8" 'abs(d["scaled_sum"]["value"]-(d["accuracy"]-1.6))<1e-9'
jcheck "$T/b4.json" "forgiving: 0.08 ln(16192/5584)/ln 2" \
  'abs(d["forgiving"]["factor"]-0.08*math.log(16192/5584)/math.log(2))<1e-8 and abs(d["forgiving"]["score"]-d["accuracy"]*(1+d["forgiving"]["factor"]))<1e-8'
expect 0 "forgiving ref_bits" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B --json --forgiving ref_bits=2792,rate=4
jcheck "$T/out" "forgiving dearer than reference" \
  'd["forgiving"]["ref_bits"]==2792 and abs(d["forgiving"]["factor"]-0.08*math.log(0.5)/math.log(4))<1e-8'

# bad usage and bad input: exit 2, message names the problem
expect 2 "no --model" -- "$Q" profile
stderr_has "--model" "missing model option named"
expect 2 "batch 0" -- "$Q" profile --model "$M" --batch 0
stderr_has "--batch" "batch named"
expect 2 "negative budget" -- "$Q" profile --model "$M" --latency-budget -1
stderr_has "--latency-budget" "budget named"
expect 2 "batch not a number" -- "$Q" profile --model "$M" --batch four
expect 2 "scaled unknown metric" -- "$Q" profile --model "$M" --scaled "acuracy:1"
stderr_has "acuracy" "unknown metric named"
expect 2 "scaled without scale" -- "$Q" profile --model "$M" --scaled "accuracy"
expect 2 "scaled bad number" -- "$Q" profile --model "$M" --scaled "accuracy:x"
expect 2 "forgiving bad key" -- "$Q" profile --model "$M" --forgiving "ref=3"
stderr_has "ref" "forgiving key named"
expect 2 "forgiving rate 1" -- "$Q" profile --model "$M" --forgiving "rate=1"
expect 2 "missing model file" -- "$Q" profile --model "$T/none.safetensors"
stderr_has "none.safetensors" "missing model named"
expect 2 "missing quant file" -- "$Q" profile --model "$M" --quant "$T/none.toml"
stderr_has "none.toml" "missing config named"
printf '[passes.quantize]\nby = "name"\n[passes.quantize.seq_blocks_9.config]\nname = "integer"\nweight_width = 8\n' > "$T/badlayer.toml"
expect 2 "unknown layer in config" -- "$Q" profile --model "$M" --quant "$T/badlayer.toml"
stderr_has "seq_blocks_9" "unknown layer named"
expect 2 "bad split" -- "$Q" profile --model "$M" --split holdout
awk 'BEGIN { srand(3); print "a,b,label"; for (i = 0; i < 50; i++) printf "%f,%f,%d\n", rand(), rand(), i % 3 }' > "$T/two.csv"
expect 2 "feature mismatch" -- "$Q" profile --model "$M" --data "csv:$T/two.csv"
stderr_has "features" "feature mismatch explained"
expect 2 "pin to a core that does not exist" -- "$Q" profile --model "$M" $B --pin 100000
if [ ! -s "$T/out" ]; then ok; else bad "a failed profile printed to stdout"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
