#!/bin/sh
# End-to-end check of quantized evaluation against PyTorch (tests/quant_peer.py):
# trains jsc-tiny, jsc-toy and jsc-s for a few epochs on a small CSV written
# here (16 features, 5 classes; no download), evaluates each under every config
# in tests/quant_configs/ (integer by type and by name with NA/bypass,
# minifloat, log, block_fp, binary, ternary, ap_fixed modes, float) with
# `qsearch eval --quant --logits`, and lets the peer rebuild each model in torch,
# quantize it as MASE's modules do and compare logits and predictions.
# With QS_MASE=/path/to/a/MASE/checkout the peer also runs MASE's own modules
# (docs/quantization.md). Run by tests/run.sh (QS_BIN=BUILD/qsearch).
# Last line "N passed, N failed";
# skipped as "0 passed, 0 failed" when /usr/bin/python3 lacks torch.
. tests/lib.sh
require_py "torch, numpy, tomllib" "apt-get install python3-torch"
use_tmp
HERE=$(dirname "$0")

# 16 features, 5 classes: class means on a few features plus noise, so the
# models learn something and activations spread over several binades.
awk 'BEGIN { srand(11); printf "f1";
  for (j = 2; j <= 16; j++) printf ",f%d", j; print ",label";
  for (i = 0; i < 1500; i++) { c = i % 5;
    for (j = 1; j <= 16; j++) { v = (rand() + rand() + rand() - 1.5) * 2;
      if (j % 5 == c) v += 2.5; if (j == 16) v = v * 40 + c * 10;
      printf "%s%.4f", (j > 1 ? "," : ""), v }
    printf ",%s\n", substr("vwxyz", c + 1, 1) } }' > "$T/d.csv"
D="csv:$T/d.csv"

expect 0 "data export" -- "$Q" data export "$D" -o "$T/npy"
cases=""
for arch in jsc-tiny jsc-toy jsc-s; do
    m="$T/$arch.safetensors"
    expect 0 "train $arch" -- "$Q" train --model "$arch" --data "$D" -o "$m" --epochs 4 --seed 3 || continue
    for c in "$HERE"/quant_configs/*.toml; do
        b=$(basename "$c" .toml)
        l="$T/logits_${arch}_$b.npy"
        if "$Q" eval --model "$m" --data "$D" --quant "$c" --logits "$l" --json > "$T/out" 2> "$T/err"; then
            cases="$cases --case $m $c $l"
        else
            bad "eval $arch $b: $(head -c 300 "$T/err")"
        fi
    done
done
if [ -n "$cases" ]; then
    # shellcheck disable=SC2086
    "$PY" "$HERE/quant_peer.py" --x "$T/npy/test_x.npy" --y "$T/npy/test_y.npy" \
        ${QS_MASE:+--mase "$QS_MASE"} $cases > "$T/peer" 2> "$T/peer_err"
    cat "$T/peer_err" >&2
    add_counts "$T/peer" || bad "quant_peer.py ended without a summary"
fi
# Sensitivity: jsc-s's logits against configs one parameter away from the one
# they were made with; the peer must reject every such pair.
m="$T/jsc-s.safetensors"
mutant() { # NAME CONFIG SED-EXPRESSION
    sed "$3" "$HERE/quant_configs/$2.toml" > "$T/mutant_$1.toml"
    if cmp -s "$T/mutant_$1.toml" "$HERE/quant_configs/$2.toml"; then bad "mutant $1 did not change $2"; return; fi
    mcases="$mcases --case $m $T/mutant_$1.toml $T/logits_jsc-s_$2.npy"
}
mcases=""
if [ -f "$T/logits_jsc-s_int8_by_type.npy" ]; then
    mutant frac int8_by_type 's/^weight_frac_width = 4/weight_frac_width = 5/'
    mutant width int8_by_type '0,/^data_in_width = 8/s//data_in_width = 7/'
    mutant block block_fp 's/^data_in_block_size = \[8\]/data_in_block_size = [16]/'
    mutant bias minifloat 's/^data_in_exponent_bias = 3/data_in_exponent_bias = 4/'
    mutant ieee minifloat 's/"minifloat_ieee"/"minifloat_denorm"/'
    mutant bipolar binary_bipolar 's/^weight_bipolar = true/weight_bipolar = false/'
    mutant scale binary_ternary 's/^weight_scaling_factor = true/weight_scaling_factor = false/'
    mutant round apfixed 's/^data_in_round = "RND"/data_in_round = "TRN"/'
    # shellcheck disable=SC2086
    "$PY" "$HERE/quant_peer.py" --x "$T/npy/test_x.npy" $mcases > "$T/peer" 2> "$T/peer_err"
    n=$(echo "$mcases" | grep -o -- '--case' | wc -l)
    if grep -qx "0 passed, $n failed" "$T/peer"; then ok; else
        bad "the peer accepted a mutant config: $(cat "$T/peer") $(grep ' ok ' "$T/peer_err")"; fi
else
    bad "no jsc-s int8 logits for the mutant check"
fi
finish
