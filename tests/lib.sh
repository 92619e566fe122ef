# Helpers shared by the tests/test_*.sh scripts. Source it from the repository
# root (tests/run.sh runs every script there):  . tests/lib.sh
#
# Sourcing defines the functions below and sets (nothing else):
#   Q      the qsearch binary under test: $QS_BIN (tests/run.sh sets BUILD/qsearch),
#          else build/qsearch
#   BUILD  the build directory holding Q (its test programs are in BUILD/tests)
#   PY     /usr/bin/python3: Debian's, which has torch and numpy (the python3 first
#          on PATH may not)
#   pass, fail   the counters that ok/bad move and finish prints
# A script then calls use_tmp (temporary directory T and an isolated cache) and
# ends with finish. Every helper that checks something adds exactly one to pass
# or to fail. Private names start with _qs_.

Q=${QS_BIN:-build/qsearch}
# shellcheck disable=SC2034 # BUILD and PY are for the scripts that source this
BUILD=$(dirname "$Q")
PY=/usr/bin/python3
pass=0
fail=0

# _qs_name: this script's name without .sh, for messages and temporary names.
_qs_name() { basename "$0" .sh; }

# ok: count one passed check. bad MESSAGE: count one failed check, say why on
# stderr. ok returns 0 and bad 1, and so does every check below (cmd || continue).
ok() { pass=$((pass + 1)); return 0; }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; return 1; }

# finish: print the closing "N passed, N failed" line; exit 0 only if nothing failed.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ] && exit 0
    exit 1
}

# use_tmp: make the temporary directory T (under $QS_TEST_TMP when tests/run.sh
# runs us, else $TMPDIR or /tmp), remove it on exit, and point XDG_CACHE_HOME
# into it so that tests never read or fill the user's dataset cache. Signals
# (HUP, INT, PIPE, TERM) exit through the EXIT trap, so the directory goes too.
use_tmp() {
    T=$(mktemp -d "${QS_TEST_TMP:-${TMPDIR:-/tmp}}/$(_qs_name).XXXXXX") || {
        echo "$(_qs_name): cannot make a temporary directory" >&2
        echo "0 passed, 1 failed"
        exit 1
    }
    trap 'rm -rf "$T"' EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 141' PIPE
    trap 'exit 143' TERM
    export XDG_CACHE_HOME="$T/cache"
}

# require_py MODULES HINT: skip the whole script (stderr note, "0 passed, 0 failed",
# exit 0) unless $PY exists and imports every module of MODULES ("torch, numpy").
require_py() {
    if [ -x "$PY" ] && "$PY" -c "import $1" 2>/dev/null; then return 0; fi
    echo "$(_qs_name): skipped: $PY has no $(echo "$1" | sed 's/, */\//g') ($2)" >&2
    echo "0 passed, 0 failed"
    exit 0
}

# require_built PROGRAM: fail the whole script (one failure) unless PROGRAM is built.
require_built() {
    [ -x "$1" ] && return 0
    echo "$(_qs_name): $1 not built" >&2
    echo "0 passed, 1 failed"
    exit 1
}

# excerpt FILE: the first and last 200 bytes of FILE (all of it when short), for messages.
excerpt() {
    if [ "$(wc -c < "$1")" -le 400 ]; then cat "$1"
    else printf '%s ... %s' "$(head -c 200 "$1")" "$(tail -c 200 "$1")"; fi
}

# expect CODE DESCRIPTION -- COMMAND...: run COMMAND with stdout in $T/out and
# stderr in $T/err (for the checks that follow); pass if it exits CODE.
expect() {
    _qs_code=$1 _qs_what=$2
    if [ "$3" != "--" ]; then bad "expect $2: usage: expect CODE DESCRIPTION -- COMMAND..."; return; fi
    shift 3
    "$@" > "$T/out" 2> "$T/err"
    _qs_rc=$?
    if [ "$_qs_rc" -eq "$_qs_code" ]; then ok
    else bad "$_qs_what: exit $_qs_rc, expected $_qs_code: $(excerpt "$T/err")"; fi
}

# stderr_has TEXT DESCRIPTION: the last expect's stderr contains TEXT (fixed string).
stderr_has() {
    if grep -qF -- "$1" "$T/err"; then ok; else bad "$2: stderr lacks '$1': $(excerpt "$T/err")"; fi
}

# stdout_empty DESCRIPTION: the last expect printed nothing on stdout.
stdout_empty() {
    if [ ! -s "$T/out" ]; then ok; else bad "$1: stdout holds $(excerpt "$T/out")"; fi
}

# check DESCRIPTION COMMAND...: pass if COMMAND exits 0 (its output is not redirected).
check() {
    _qs_what=$1
    shift
    if "$@"; then ok; else bad "$_qs_what"; fi
}

# pycheck DESCRIPTION SCRIPT ARGS...: pass if `$PY -c SCRIPT ARGS...` exits 0
# (asserts); with SCRIPT "-" the script is read from stdin (a here-document).
# Python's stderr is kept in $T/pyerr and its last 600 bytes shown on failure.
pycheck() {
    _qs_what=$1
    shift
    [ "$1" = "-" ] || set -- -c "$@"
    if "$PY" "$@" 2> "$T/pyerr"; then ok; else bad "$_qs_what: $(tail -c 600 "$T/pyerr")"; fi
}

# jcheck FILE DESCRIPTION EXPRESSION: the Python EXPRESSION over d (FILE parsed as
# JSON; json, math and sys imported) is true.
jcheck() {
    if "$PY" -c 'import json,math,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$3" 2> "$T/pyerr"; then ok; else bad "$2: $3 $(excerpt "$T/pyerr")"; fi
}

# add_counts FILE: add the last "N passed, N failed" line of FILE (a sub-runner's
# output) to pass and fail; returns 1, counting nothing, when FILE has none.
add_counts() {
    _qs_last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    [ -n "$_qs_last" ] || return 1
    pass=$((pass + $(echo "$_qs_last" | sed -E 's/^([0-9]+) passed.*/\1/')))
    fail=$((fail + $(echo "$_qs_last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')))
}

# ---- toy data and configs (deterministic: awk's srand(SEED)) ----

# csv_abc FILE ROWS SEED SPREAD: header f1..f4,label; 3 classes labelled a, b, c;
# f1 = c + U*SPREAD and f3 = -c + U*SPREAD separate them, f2 and f4 are noise.
csv_abc() {
    awk -v n="$2" -v seed="$3" -v s="$4" 'BEGIN { srand(seed); print "f1,f2,f3,f4,label";
  for (i = 0; i < n; i++) { c = i % 3;
    printf "%.3f,%.3f,%.3f,%.3f,%s\n", c + rand() * s, rand(), -c + rand() * s, rand(), substr("abc", c + 1, 1) } }' > "$1"
}

# csv_letter FILE SEED: letter's shape: header f1..f16,label; 26 classes A..Z,
# 20 rows each (520); feature c % 16 marks class c, plus noise in [0, 0.3).
csv_letter() {
    awk -v seed="$2" 'BEGIN { srand(seed); printf "f1"; for (j = 2; j <= 16; j++) printf ",f%d", j; print ",label";
  for (i = 0; i < 520; i++) { c = i % 26; for (j = 0; j < 16; j++) printf "%.3f,", (j == c % 16) * (1 + c / 16) + rand() * 0.3;
    print substr("ABCDEFGHIJKLMNOPQRSTUVWXYZ", c + 1, 1) } }' > "$1"
}

# csv_two FILE: header a,b,label; 2 features, 3 classes, 50 rows: data whose
# width matches none of the models the tests train (feature-mismatch checks).
csv_two() {
    awk 'BEGIN { srand(3); print "a,b,label"; for (i = 0; i < 50; i++) printf "%f,%f,%d\n", rand(), rand(), i % 3 }' > "$1"
}

# csv_16x5 FILE ROWS SEED: no header; 16 features, 5 classes labelled 0..4 (last
# column); feature c adds 1.2 and feature c + 5 adds 0.8 to U*3 noise for class c.
csv_16x5() {
    awk -v n="$2" -v seed="$3" 'BEGIN { srand(seed);
  for (i = 0; i < n; i++) { c = i % 5; line = "";
    for (f = 0; f < 16; f++) { v = rand() * 3 + (f == c ? 1.2 : 0) + (f == c + 5 ? 0.8 : 0); line = line sprintf("%.4f,", v) }
    print line c } }' > "$1"
}

# jsc_toy_16x5 ROWS SEED EPOCHS: csv_16x5 into $T/d.csv, D=csv:$T/d.csv, and
# jsc-toy trained on it for EPOCHS into $T/toy.safetensors (silent; a failed
# train counts one failure, a good one nothing).
jsc_toy_16x5() {
    csv_16x5 "$T/d.csv" "$1" "$2"
    D="csv:$T/d.csv"
    "$Q" train --model jsc-toy --data "$D" --epochs "$3" -o "$T/toy.safetensors" > /dev/null 2>&1 || bad "train jsc-toy"
}

# space_1728 FILE SAMPLER: search config over jsc-toy's linear layers by name
# (seq_blocks_2, _5, _8), each integer with data_in {4,8} x weight {2,4,8} x
# bias {8,16}: 12^3 = 1728 configurations; objective accuracy - 0.01 x average
# bitwidth. Line 23 is `sampler = "SAMPLER"` (tests check located errors there).
space_1728() {
    {
        printf '[search.search_space]\nname = "graph/quantize/mixed_precision_ptq"\n'
        printf '[search.search_space.setup]\nby = "name"\n'
        printf '[search.search_space.seed.default.config]\nname = ["NA"]\n'
        for _qs_layer in seq_blocks_2 seq_blocks_5 seq_blocks_8; do
            printf '[search.search_space.seed.%s.config]\nname = ["integer"]\ndata_in_width = [4, 8]\n' "$_qs_layer"
            printf 'weight_width = [2, 4, 8]\nbias_width = [8, 16]\n'
        done
        printf '[search.strategy.setup]\nsampler = "%s"\n' "$2"
        printf '[search.strategy.metrics]\naccuracy.scale = 1.0\naverage_bitwidth.scale = -0.01\n'
    } > "$1"
}

# quant_int_by_type FILE WEIGHT_WIDTH: quantize config by type: linear layers
# integer (data_in 8, weight WEIGHT_WIDTH, bias 8 bits), relu data_in 8, rest float.
quant_int_by_type() {
    printf '[passes.quantize]\nby = "type"\n[passes.quantize.default.config]\nname = "NA"\n' > "$1"
    printf '[passes.quantize.linear.config]\nname = "integer"\ndata_in_width = 8\nweight_width = %s\nbias_width = 8\n' \
        "$2" >> "$1"
    printf '[passes.quantize.relu.config]\nname = "integer"\ndata_in_width = 8\n' >> "$1"
}
