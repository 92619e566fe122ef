#!/bin/sh
# Runs every test program in BUILD/tests and every tests/test_*.sh script, from
# the repository root, and sums their closing "N passed, N failed" lines.
# Usage: tests/run.sh BUILD_DIR
BUILD=${1:-build}
export QS_BIN="$BUILD/qsearch"
# Tests must not touch the user's cache.
QS_TEST_TMP=$(mktemp -d)
export XDG_CACHE_HOME="$QS_TEST_TMP/cache"
export QS_TEST_TMP
trap 'rm -rf "$QS_TEST_TMP"' EXIT

passed=0
failed=0
for t in "$BUILD"/tests/test_* tests/test_*.sh; do
    [ -f "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    [ -x "$t" ] || case "$t" in *.sh) ;; *) continue ;; esac
    echo "== $t" >&2
    case "$t" in
        *.sh) out=$(sh "$t") ;;
        *) out=$("$t") ;;
    esac
    rc=$?
    last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$last" ]; then
        echo "   $t ended without a summary line (exit $rc): counted as 1 failed" >&2
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$last" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    echo "   $last" >&2
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "   $t exited $rc: counted as 1 failed" >&2
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
