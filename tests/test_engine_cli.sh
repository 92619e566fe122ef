#!/bin/sh
# qsearch eval/profile with the integer engine: the default engine per config,
# --engine int|emulate, identical logits from both engines on an integer config,
# which layers ran which way in JSON and human output, QS_KERNELS, bad values.
# Data is a CSV written here; no network.
. tests/lib.sh
use_tmp

csv_letter "$T/l16.csv" 5
D="csv:$T/l16.csv"
quant_int_by_type "$T/int8.toml" 4
# seq_blocks_5 in minifloat: not integer, so the engine runs it as the emulation
cat > "$T/mixed.toml" <<'EOF'
[passes.quantize]
by = "name"
[passes.quantize.default.config]
name = "integer"
data_in_width = 8
weight_width = 8
bias_width = 8
[passes.quantize.seq_blocks_5.config]
name = "minifloat_ieee"
data_in_width = 8
data_in_exponent_width = 4
weight_width = 8
weight_exponent_width = 4
bias_width = 8
bias_exponent_width = 4
EOF

expect 0 "train" -- "$Q" train --model jsc-s --data "$D" -o "$T/m.safetensors" --epochs 3
M="$T/m.safetensors"

expect 0 "eval int8 default engine" -- "$Q" eval --model "$M" --data "$D" --quant "$T/int8.toml" --json --logits "$T/int.npy"
cp "$T/out" "$T/int.json"
jcheck "$T/int.json" "integer config runs on the integer engine" \
  'd["engine"]=="int" and d["kernels"] in ("ref","avx2","avx512") and len(d["engine_layers"])==5 and all(l["run"]=="int" and l["weights"]=="int4" and l["act_bits"]==8 and l["acc_bits"]==32 for l in d["engine_layers"])'
expect 0 "eval int8 emulate" -- "$Q" eval --model "$M" --data "$D" --quant "$T/int8.toml" --engine emulate --json --logits "$T/emu.npy"
jcheck "$T/out" "emulate engine named" 'd["engine"]=="emulate" and d["kernels"] is None and "engine_layers" not in d'
pycheck "int and emulate logits bitwise equal" '
import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape and (a.view(np.uint32) == b.view(np.uint32)).all()' "$T/int.npy" "$T/emu.npy"

expect 0 "eval float default" -- "$Q" eval --model "$M" --data "$D" --json --logits "$T/f-int.npy"
jcheck "$T/out" "float model: the engine runs it, no layer integer" \
  'd["engine"]=="int" and all(l["run"]=="emulate" for l in d["engine_layers"])'
expect 0 "eval float emulate" -- "$Q" eval --model "$M" --data "$D" --engine emulate --json --logits "$T/f-emu.npy"
pycheck "float: engine and emulate logits bitwise equal" '
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape and (a.view(np.uint32) == b.view(np.uint32)).all()' "$T/f-int.npy" "$T/f-emu.npy"

expect 0 "eval mixed default" -- "$Q" eval --model "$M" --data "$D" --quant "$T/mixed.toml" --json --logits "$T/m-int.npy"
jcheck "$T/out" "mixed config: the engine by default" 'd["engine"]=="int"'
expect 0 "eval mixed emulate" -- "$Q" eval --model "$M" --data "$D" --quant "$T/mixed.toml" --engine emulate --json --logits "$T/m-emu.npy"
pycheck "mixed: engine and emulate logits bitwise equal" '
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape and (a.view(np.uint32) == b.view(np.uint32)).all()' "$T/m-int.npy" "$T/m-emu.npy"
expect 0 "eval mixed --engine int" -- "$Q" eval --model "$M" --data "$D" --quant "$T/mixed.toml" --engine int --json
jcheck "$T/out" "mixed config: which layer ran how" \
  'd["engine"]=="int" and [l["run"] for l in d["engine_layers"]]==["int","emulate","int","int","int"] and d["engine_layers"][1]["reason"]=="data_in is minifloat_ieee"'
expect 0 "eval mixed human" -- "$Q" eval --model "$M" --data "$D" --quant "$T/mixed.toml" --engine int
stderr_has "4 of 5 linear layers integer" "human engine summary"
stderr_has "seq_blocks_5 linear 64->32: emulate (data_in is minifloat_ieee)" "human emulated layer"
stderr_has "seq_blocks_2 linear 16->64: int (int8 weights, int8 acts, int32 acc" "human integer layer"

expect 0 "QS_KERNELS=ref" -- env QS_KERNELS=ref "$Q" eval --model "$M" --data "$D" --quant "$T/int8.toml" --json --logits "$T/ref.npy"
jcheck "$T/out" "forced ref path reported" 'd["kernels"]=="ref"'
pycheck "ref path logits bitwise equal to the default path" '
import numpy as np, sys
assert (np.load(sys.argv[1]).view(np.uint32) == np.load(sys.argv[2]).view(np.uint32)).all()' "$T/int.npy" "$T/ref.npy"

expect 0 "profile int8" -- "$Q" profile --model "$M" --data "$D" --quant "$T/int8.toml" --latency-budget 0.05 --batch 8 --json
jcheck "$T/out" "profile names the engine" \
  'd["engine"]=="int" and d["kernels"] in ("ref","avx2","avx512") and len(d["engine_layers"])==5 and d["latency"]["median_ns"]>0 and d["latency_batch"]["batch"]==8'
expect 0 "profile emulate" -- "$Q" profile --model "$M" --data "$D" --quant "$T/int8.toml" --latency-budget 0.05 --engine emulate --json
jcheck "$T/out" "profile emulate" 'd["engine"]=="emulate" and d["kernels"] is None'
expect 0 "profile human" -- "$Q" profile --model "$M" --data "$D" --quant "$T/int8.toml" --latency-budget 0.05
stderr_has "5 of 5 linear layers integer" "profile human engine"

expect 2 "eval bad --engine" -- "$Q" eval --model "$M" --data "$D" --engine fast
stderr_has "--engine 'fast'" "bad engine named"
expect 2 "profile bad --engine" -- "$Q" profile --model "$M" --data "$D" --engine fast
expect 2 "bad QS_KERNELS" -- env QS_KERNELS=bogus "$Q" eval --model "$M" --data "$D" --quant "$T/int8.toml"
stderr_has "QS_KERNELS=bogus" "bad path named"

finish
