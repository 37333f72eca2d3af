#!/usr/bin/env bash
# elang beside another process: batch-1 classification (the SST-2 demo Super)
# and batch-1 T5 translation (the Multi30k demo Super) with --threads 0 (every
# CPU, fewer while others hold some: src/core/threads.h), 2 and 1, on an idle
# machine and with BUSY loops of `while :; do :; done` beside them. Medians of
# REPS runs (bench_classify / bench_generate: each run is one untimed pass and
# REPS timed passes; the figure is the median of the medians).
#
#   make bench-bin && bench/load.sh          REPS=3 BUSY="0 1 2" by default
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
BUSY=${BUSY:-0 1 2}
B=${BUILD:-build}
SHARED=${ELANG_SHARED:-$(cd .. && pwd)/shared}
WORK=${BENCH_DIR:-/tmp/elang-bench}/load
mkdir -p "$WORK"
for bin in "$B"/bench/bench_classify "$B"/bench/bench_generate; do
    [ -x "$bin" ] || { echo "load.sh: $bin missing: run make BUILD=$B bench-bin first" >&2; exit 1; }
done
# 200 SST-2 dev sentences; 32 Multi30k val captions.
python3 -c 'import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:201]
print("\n".join(json.dumps({"text": r[0]}) for r in rows))' "$SHARED/data/glue/SST-2/dev.tsv" >"$WORK/sst2.jsonl"
python3 -c 'import json, sys
print("\n".join(json.dumps({"text": l.strip()}) for l in list(open(sys.argv[1]))[:32]))' \
    "$SHARED/data/multi30k/val.en" >"$WORK/m30k.jsonl"

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
loops=()
stop_loops() { [ ${#loops[@]} -eq 0 ] || kill "${loops[@]}" 2>/dev/null || true; loops=(); }
trap stop_loops EXIT

echo "| busy loops | task | threads 0 | threads 2 | threads 1 |"
echo "|---:|---|---:|---:|---:|"
for busy in $BUSY; do
    for ((i = 0; i < busy; i++)); do
        bash -c 'while :; do :; done' &
        loops+=($!)
    done
    sleep 1
    for task in classify generate; do
        row="| $busy | $task"
        for t in 0 2 1; do
            runs=()
            for ((r = 0; r < REPS; r++)); do
                if [ $task = classify ]; then
                    runs+=("$("$B"/bench/bench_classify models/sst2-super "$WORK/sst2.jsonl" "$t" 1 3 f32 |
                        python3 -c 'import json, sys; print(json.load(sys.stdin)["inputs_per_s"])')")
                else
                    runs+=("$("$B"/bench/bench_generate models/multi30k-super "$WORK/m30k.jsonl" "$t" 1 3 f32 32 "" |
                        python3 -c 'import json, sys; print(json.load(sys.stdin)["tokens_per_s"])')")
                fi
            done
            row+=" | $(printf '%s\n' "${runs[@]}" | median)"
        done
        echo "$row |"
    done
    stop_loops
done
echo
echo "classify: SST-2 sentences/s, one per call; generate: Multi30k tokens/s, one caption per call (greedy, 32 new"
echo "tokens at most). Medians of $REPS runs; $(nproc) CPUs."
