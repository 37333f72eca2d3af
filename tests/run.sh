#!/usr/bin/env bash
# Runs every test binary of the given build folders (default: build) and
# prints the combined tally as its last line: `N passed, N failed`.
# Each binary is a cmocka group; a binary that dies without a cmocka summary
# (crash, sanitizer report) counts as one failure.
set -u
cd "$(dirname "$0")/.."
export ELANG_SHARED="${ELANG_SHARED:-$(cd .. && pwd)/shared}"
# Most suites compare against the shared fixtures and data: without them every
# one would fail on its own, so say once what is missing.
if [ ! -d "$ELANG_SHARED/fixtures/hf" ] || [ ! -d "$ELANG_SHARED/data" ]; then
    echo "tests: $ELANG_SHARED has no fixtures/hf and data: put the shared folder beside the" \
         "repository or set ELANG_SHARED=/path/to/shared" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
passed=0 failed=0 skipped=0
for build in "${@:-build}"; do
    export ELANG_BIN="$PWD/$build/elang"
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        log=$(mktemp)
        "$t" >"$log" 2>&1
        rc=$?
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
        k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
        p=${p:-0} f=${f:-0} k=${k:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        if [ "$f" -ne 0 ]; then cat "$log"; fi
        # A skipped test says why; it is counted apart, never as passed.
        if [ "$k" -ne 0 ]; then grep 'SKIPPED:' "$log"; fi
        printf '%-12s %-36s %3d passed, %d failed%s\n' "$build" "$(basename "$t")" "$p" "$f" \
            "$([ "$k" -ne 0 ] && echo ", $k skipped")"
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
        rm -f "$log"
    done
done
if [ "$skipped" -ne 0 ]; then echo "$skipped skipped (see above why)"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
