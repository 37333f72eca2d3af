#!/usr/bin/env bash
# Calibrates the demo pairs and writes models/TASK.calib.json (SST-2, CoLA,
# MRPC, RTE), models/glue-t5-TASK.calib.json, models/multi30k.calib.json
# and models/sst2-lm.calib.json (and the -head ones of the Swifts that have
# an encoder head), which
# `elang demo` routes with. The thresholds come from data the demo never
# reports on: each GLUE task's calibration split of train.tsv
# (models/TASK-calibration-lines.txt, held out from training; the decoder-only
# SST-2 pair holds out the same sentences) and Multi30k val; the demo reports
# on the GLUE dev sets and Multi30k test 2016.
#
#   tools/calibrate_demo.sh            (after make; ELANG_SHARED overrides ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ELANG_SHARED:-../shared}
PREFIX="translate English to German: "

# A pair not trained yet is skipped, as `elang demo` skips it.
have() { [ -f "models/$1-swift/config.json" ] && [ -f "models/$1-super/config.json" ]; }

# GLUE: the score and objective that met the GLUE aim most often when
# thresholds set on one half of each calibration split were scored on the
# other (tools/split_half.sh, 12 seeds; README "GLUE with BERT pairs"): the
# authors' code's energy (softmax-energy; for two classes it orders inputs
# as the maximum probability does) and the cheapest threshold matching
# Super on 70% of bootstrap resamples of the split, one choice for all four
# tasks (9 of 12 halves with the distilled Swifts).
for task in sst2:SST-2 cola:CoLA mrpc:MRPC rte:RTE; do
    name=${task%%:*} dir=${task#*:}
    have "$name" && build/elang calibrate --swift "models/$name-swift" --super "models/$name-super" --task "$name" \
        --data "$SHARED/data/glue/$dir/train.tsv" --lines "models/$name-calibration-lines.txt" \
        --score softmax-energy --objective match-super-bootstrap:0.7 --out "models/$name.calib.json"
done

# GLUE as text-to-text: one T5 pair, a calibration per task (its prefix,
# pair infix and label words, as tools/train/train_glue_t5.py trained them),
# chosen as the BERT pairs' were (PAIR=t5 tools/split_half.sh): the
# authors' code's energy of the two label words and the cheapest threshold
# matching Super on the split (10 of 12 halves with the distilled Swift, tied
# with two other objectives of that score and the cheapest of the three).
for task in sst2:SST-2:sentence:negative,positive cola:CoLA:sentence:unacceptable,acceptable \
            mrpc:MRPC:sentence1:not_equivalent,equivalent rte:RTE:sentence1:entailment,not_entailment; do
    IFS=: read -r name dir field words <<<"$task"
    t5_flags=(--swift models/glue-t5-swift --super models/glue-t5-super --task "$name"
              --data "$SHARED/data/glue/$dir/train.tsv" --lines "models/$name-calibration-lines.txt"
              --swift-prefix "$name $field: " --super-prefix "$name $field: " --pair-infix " sentence2: "
              --label-words "$words")
    have glue-t5 && build/elang calibrate "${t5_flags[@]}" --score softmax-energy \
        --objective match-super --out "models/glue-t5-$name.calib.json"
    # The same with Swift's encoder head deciding before Swift decodes (the
    # head predicts every task's label-word logits; the task's two are taken),
    # on match-super as before the split-half comparison, which did not try it.
    have glue-t5 && [ -f models/glue-t5-swift/elang_head.json ] &&
        build/elang calibrate "${t5_flags[@]}" --score encoder-head --objective match-super --out "models/glue-t5-$name-head.calib.json"
done

# Multi30k: within 0.5 BLEU of Super at the least compute.
have multi30k && build/elang calibrate --swift models/multi30k-swift --super models/multi30k-super --task translation \
    --src "$SHARED/data/multi30k/val.en" --ref "$SHARED/data/multi30k/val.de" \
    --swift-prefix "$PREFIX" --super-prefix "$PREFIX" --max-new-tokens 64 \
    --objective match-super:0.5 --out models/multi30k.calib.json
# The same with Swift's encoder head deciding before Swift decodes
# (tools/train/train_head.py), when Swift has one.
have multi30k && [ -f models/multi30k-swift/elang_head.json ] && build/elang calibrate --swift models/multi30k-swift \
    --super models/multi30k-super --task translation \
    --src "$SHARED/data/multi30k/val.en" --ref "$SHARED/data/multi30k/val.de" \
    --swift-prefix "$PREFIX" --super-prefix "$PREFIX" --max-new-tokens 64 --score encoder-head \
    --objective match-super:0.5 --out models/multi30k-head.calib.json
# SST-2 with the decoder-only pair: the same calibration split as the BERT
# pair; the models answer through the prompt's next token, one of the two
# label words (tools/train/train_sst2_lm.py trained them so). Its score and
# objective were chosen on the calibration split alone (`elang eval` of it,
# README "The demo"), before the GLUE pairs' rule came to the same kind of
# choice: on it this Super is no more
# accurate than Swift (75.8% against 77.0%), so match-super would keep every
# input on Swift, and the objective is the best accuracy the pair reaches
# (max-metric); and the energy of two label-word logits ranks the inputs
# worse than random there (APGR 0.18 against 0.55: their log-sum-exp
# follows the logits' overall scale at that position, not which word
# leads), while the maximum probability (like the margin and the entropy,
# the same order for two classes) ranks them well (0.69).
LM_PROMPT="Review: {text} Sentiment:"
have sst2-lm && build/elang calibrate --swift models/sst2-lm-swift --super models/sst2-lm-super --task sst2 \
    --data "$SHARED/data/glue/SST-2/train.tsv" --lines models/sst2-calibration-lines.txt \
    --swift-prefix "$LM_PROMPT" --super-prefix "$LM_PROMPT" --label-words negative,positive \
    --score maxprob --objective max-metric --out models/sst2-lm.calib.json
exit 0
