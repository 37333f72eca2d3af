#!/usr/bin/env bash
# How well do thresholds set on a GLUE calibration split transfer to new
# data? For each seed, every task's calibration split (models/TASK-
# calibration-lines.txt) is halved at random (`elang calibrate --holdout 0.5
# --seed N`); each routing score and objective sets the pair's threshold on
# one half and is scored on the other. Prints, per score and objective, how
# often the held-out halves meet the GLUE aim (E-LANG's mean over the four
# tasks at least Super's, at a mean per-task speed-up of 2.5x or more), the
# mean held-out gap to Super (points of each task's metric: accuracy, MCC,
# MRPC's F1) and the mean speed-up. Only calibration data is read: no dev or
# test set.
#
#   tools/split_half.sh [SEEDS]     (after make; default 12 seeds, 10 to 20
#                                    minutes on 2 cores, the T5 pair's longer;
#                                    PAIR=bert (default: the four BERT pairs) or
#                                    PAIR=t5 (the text-to-text pair, calibrated
#                                    as tools/calibrate_demo.sh does);
#                                    ROUTINGS="SCORE/OBJECTIVE ..." to compare
#                                    others; THREADS=N for elang's --threads,
#                                    default all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ELANG_SHARED:-../shared}
SEEDS=${1:-12}
THREADS=${THREADS:-0}
PAIR=${PAIR:-bert}
# The six the README's tables compare (the demo's calibrations take the one
# meeting the aim most often; tools/calibrate_demo.sh).
read -r -d '' -a ROUTINGS <<<"${ROUTINGS:-energy/match-super energy/match-super-bootstrap:0.7 energy/max-metric
    softmax-energy/match-super softmax-energy/match-super-bootstrap:0.7 softmax-energy/max-metric}" || true  # read -d '' ends at the end of input, status 1
case $PAIR in bert|t5) ;; *) echo "split_half: PAIR must be bert or t5, not '$PAIR'" >&2; exit 2 ;; esac
out=$(mktemp -d /tmp/elang-split-half-XXXXXX)
trap 'rm -rf "$out"' EXIT
for seed in $(seq 1 "$SEEDS"); do
    for task in sst2:SST-2:sentence:negative,positive cola:CoLA:sentence:unacceptable,acceptable \
                mrpc:MRPC:sentence1:not_equivalent,equivalent rte:RTE:sentence1:entailment,not_entailment; do
        IFS=: read -r name dir field words <<<"$task"
        if [ "$PAIR" = bert ]; then
            pair=(--swift "models/$name-swift" --super "models/$name-super")
        else
            pair=(--swift models/glue-t5-swift --super models/glue-t5-super --swift-prefix "$name $field: "
                  --super-prefix "$name $field: " --pair-infix " sentence2: " --label-words "$words")
        fi
        for routing in "${ROUTINGS[@]}"; do
            # The progress bar goes to stderr; kept apart so that a failure can show it.
            if ! build/elang calibrate "${pair[@]}" --task "$name" \
                --data "$SHARED/data/glue/$dir/train.tsv" --lines "models/$name-calibration-lines.txt" \
                --score "${routing%%/*}" --objective "${routing#*/}" --holdout 0.5 --seed "$seed" \
                --threads "$THREADS" --out "$out/calib.json" >"$out/stdout" 2>"$out/stderr"; then
                tail -n 3 "$out/stderr" >&2
                echo "split_half: calibrate failed for $name, $routing, seed $seed" >&2
                exit 1
            fi
            echo "$seed $name $routing $(grep "held out" "$out/stdout")" >>"$out/results.txt"
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
print("| score / objective | held-out halves meeting the aim | mean gap to Super | mean speed-up |")
print("|---|---:|---:|---:|")
for objective, seeds in runs.items():
    gaps = [statistics.mean(g for g, _ in t.values()) for t in seeds.values()]
    speedups = [statistics.mean(s for _, s in t.values()) for t in seeds.values()]
    met = sum(g >= 0 and s >= 2.5 for g, s in zip(gaps, speedups))
    print(f"| `{objective}` | {met} of {len(seeds)} | {statistics.mean(gaps):+.2f} | "
          f"{statistics.mean(speedups):.2f}x |")
PY
