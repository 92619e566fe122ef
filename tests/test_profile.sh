#!/bin/sh
# qsearch profile: --json is one document with every key of DESIGN.md section 3,
# static numbers equal the hand values of tests/test_cost.c (jsc-tiny on 16
# features / 26 classes), quantized and float, batch B, scaled sum and
# forgiving factor, human output on stderr only, and bad inputs exit 2 with a
# message naming the problem. Data is a CSV written here; no network.
. tests/lib.sh
use_tmp

# 16 features, 26 classes (letter's shape), 20 rows per class.
csv_letter "$T/l16.csv" 11
quant_int_by_type "$T/int8.toml" 8

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
  '0<d["cpu_util"]<=1.05 and d["peak_rss_bytes"]>0 and d["latency"]["median_ns"]>0 and d["latency"]["ci95_ns"][0]<=d["latency"]["median_ns"]<=d["latency"]["ci95_ns"][1] and d["engine"]=="int"'
jcheck "$T/float.json" "layers" \
  'len(d["layers"])==4 and d["layers"][2]["name"]=="seq_blocks_2" and d["layers"][2]["bitops"]==425984 and d["layers"][2]["weight"]=="float" and abs(sum(l["energy_share"] for l in d["layers"])-1)<1e-9'

# int8, JSON
expect 0 "profile int8 json" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B --json
cp "$T/out" "$T/int8.json"
jcheck "$T/int8.json" "int8 hand values" \
  'd["params"]==474 and d["model_size_bits"]==5584 and d["bitops"]==26624 and d["avg_bitwidth"]==8 and d["memory_density"]==4 and d["flops"]==932'
jcheck "$T/int8.json" "int8 layer formats" \
  'd["layers"][2]["weight"].startswith("integer(width=8") and d["layers"][1]["data_in_bits"]==8 and d["quant"].endswith("int8.toml")'
pycheck "int8 model energy below float (when modelled)" '
import json, sys
a, b = (json.load(open(f))["energy"] for f in sys.argv[1:3])
assert a["joules"] < b["joules"] or a["source"] != "model", (a, b)' "$T/int8.json" "$T/float.json"

# human output goes to stderr only
expect 0 "profile human" -- "$Q" profile --model "$M" --quant "$T/int8.toml" $B
stdout_empty "human output leaked to stdout"
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
csv_two "$T/two.csv"
expect 2 "feature mismatch" -- "$Q" profile --model "$M" --data "csv:$T/two.csv"
stderr_has "features" "feature mismatch explained"
expect 2 "pin to a core that does not exist" -- "$Q" profile --model "$M" $B --pin 100000
stdout_empty "a failed profile printed to stdout"

finish
