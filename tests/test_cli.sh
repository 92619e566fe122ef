#!/bin/sh
# CLI contract: exit codes (0 ok, 1 runtime, 2 bad usage/input), --help, --json
# purity (stdout holds one JSON document), no partial output files on failure.
# Runs on small files written here; needs no network.
. tests/lib.sh
use_tmp

# A small separable CSV: 3 classes, 4 features, header, string labels.
csv_abc "$T/toy.csv" 300 7 0.5

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
jcheck "$T/out" "data info --json is one JSON document with classes 3, features 4" 'd["classes"]==3 and d["features"]==4'

expect 2 "missing csv" -- "$Q" data info "csv:$T/nope.csv"
stderr_has "nope.csv" "missing file is named"
printf 'a,b,label\n1,2,x\n3,x\n' > "$T/ragged.csv"
expect 2 "ragged csv" -- "$Q" data info "csv:$T/ragged.csv"
stderr_has "ragged.csv:3" "ragged row names file:line"
expect 2 "unknown dataset" -- "$Q" data info nosuchdata

expect 2 "unknown arch" -- "$Q" train --model jsc-huge --data "csv:$T/toy.csv" -o "$T/m.safetensors"
stderr_has "jsc-huge" "unknown arch is named"
check "no model file after a failed train" test ! -e "$T/m.safetensors"
expect 2 "mlp width mismatch" -- "$Q" train --model mlp:5-8-3 --data "csv:$T/toy.csv" -o "$T/m.safetensors"

expect 0 "train tiny" -- "$Q" train --model jsc-tiny --data "csv:$T/toy.csv" -o "$T/m.safetensors" --epochs 3
expect 0 "eval json" -- "$Q" eval --model "$T/m.safetensors" --json --logits "$T/logits.npy"
jcheck "$T/out" "eval --json document" '0<=d["accuracy"]<=1 and d["split"]=="test" and len(d["confusion"])==3'
check "eval --logits wrote nothing" test -s "$T/logits.npy"
expect 2 "eval bad split" -- "$Q" eval --model "$T/m.safetensors" --split holdout
expect 2 "eval missing model" -- "$Q" eval --model "$T/none.safetensors"
stderr_has "none.safetensors" "missing model is named"
head -c 100 "$T/m.safetensors" > "$T/trunc.safetensors"
expect 2 "eval truncated model" -- "$Q" eval --model "$T/trunc.safetensors"
csv_two "$T/two.csv"
expect 2 "eval feature mismatch" -- "$Q" eval --model "$T/m.safetensors" --data "csv:$T/two.csv"
stderr_has "features" "feature mismatch explained"

finish
