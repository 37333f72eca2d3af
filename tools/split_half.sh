#!/usr/bin/env bash
# How well do thresholds set on a GLUE calibration split transfer to new
# data? For each seed, every task's calibration split (models/TASK-
# calibration-lines.txt) is halved at random (`elang calibrate --holdout 0.5
# --seed N`); each objective sets the BERT pair's threshold on one half and
# is scored on the other. Prints, per objective, how often the held-out
# halves meet the GLUE aim (E-LANG's mean over the four tasks at least
# Super's, at a mean per-task speed-up of 2.5x or more), the mean held-out
# gap to Super (points of each task's metric: accuracy, MCC, MRPC's F1) and
# the mean speed-up. Only calibration data is read: no dev or test set.
#
#   tools/split_half.sh [SEEDS]     (after make; default 12 seeds, ~20 minutes;
#                                    THREADS=N for elang's --threads, default all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ELANG_SHARED:-../shared}
SEEDS=${1:-12}
THREADS=${THREADS:-0}
OBJECTIVES=(match-super match-super-bootstrap:0.6 match-super-bootstrap:0.7 match-super-bootstrap:0.8
            match-super-bootstrap:0.9 match-super-bootstrap:0.95)
out=$(mktemp -d /tmp/elang-split-half-XXXXXX)
trap 'rm -rf "$out"' EXIT
for seed in $(seq 1 "$SEEDS"); do
    for task in sst2:SST-2 cola:CoLA mrpc:MRPC rte:RTE; do
        name=${task%%:*} dir=${task#*:}
        for obj in "${OBJECTIVES[@]}"; do
            # The progress bar goes to stderr; kept apart so that a failure can show it.
            if ! build/elang calibrate --swift "models/$name-swift" --super "models/$name-super" --task "$name" \
                --data "$SHARED/data/glue/$dir/train.tsv" --lines "models/$name-calibration-lines.txt" \
                --objective "$obj" --holdout 0.5 --seed "$seed" --threads "$THREADS" --out "$out/calib.json" \
                >"$out/stdout" 2>"$out/stderr"; then
                tail -n 3 "$out/stderr" >&2
                echo "split_half: calibrate failed for $name, $obj, seed $seed" >&2
                exit 1
            fi
            echo "$seed $name $obj $(grep "held out" "$out/stdout")" >>"$out/results.txt"
        done
    done
done
python3 - "$out/results.txt" <<'PY'
import collections, re, statistics, sys
runs = collections.defaultdict(dict)
pattern = re.compile(r"(\d+) (\S+) (\S+)\s+held out \(\d+ inputs\): Swift \S+, Super ([\d.-]+), E-LANG ([\d.-]+) "
                     r"with [\d.]+% on Super, \S+ GFLOPs/input \(([\d.]+)x (fewer|more)\)")
for line in open(sys.argv[1]):
    m = pattern.match(line)
    if not m:
        sys.exit(f"unexpected line: {line.strip()}")
    speedup = float(m[6]) if m[7] == "fewer" else 1 / float(m[6])
    runs[m[3]].setdefault(int(m[1]), {})[m[2]] = (100 * (float(m[5]) - float(m[4])), speedup)
print("| objective | held-out halves meeting the aim | mean gap to Super | mean speed-up |")
print("|---|---:|---:|---:|")
for objective, seeds in runs.items():
    gaps = [statistics.mean(g for g, _ in t.values()) for t in seeds.values()]
    speedups = [statistics.mean(s for _, s in t.values()) for t in seeds.values()]
    met = sum(g >= 0 and s >= 2.5 for g, s in zip(gaps, speedups))
    print(f"| `{objective}` | {met} of {len(seeds)} | {statistics.mean(gaps):+.2f} | "
          f"{statistics.mean(speedups):.2f}x |")
PY
