#!/usr/bin/env bash
# Classifier speed: elang against PyTorch eager on the same BERT-Base-sized
# model (random weights) and the same SST-2 dev sentences, medians of several
# runs, with the machine's measured SGEMM peak alongside. Needs python3-torch.
#
#   make bench            (or bench/run.sh after `make bench-bin`)
#   THREADS=1 BATCH=8 REPS=5 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${ELANG_SHARED:-$(cd .. && pwd)/shared}
THREADS=${THREADS:-$(nproc)}
BATCH=${BATCH:-32}
REPS=${REPS:-5}
WORK=${BENCH_DIR:-/tmp/elang-bench}
PY=${PYTHON:-/usr/bin/python3}
MODEL="$WORK/bert-base"
mkdir -p "$WORK"

[ -f "$MODEL/model.safetensors" ] || "$PY" bench/make_model.py "$MODEL" --shared "$SHARED"
# SST-2 dev sentences as classify input (skipping the header).
"$PY" - "$SHARED/data/glue/SST-2/dev.tsv" "$WORK/sst2-dev.jsonl" <<'PYEOF'
import json, sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]
with open(sys.argv[2], "w") as f:
    for r in rows:
        f.write(json.dumps({"text": r.split("\t")[0]}) + "\n")
PYEOF

build/elang classify --model "$MODEL" --input "$WORK/sst2-dev.jsonl" --output "$WORK/elang-out.jsonl" \
    --emit-ids --threads "$THREADS" --batch-size "$BATCH"
peak=$(build/bench/gemm_peak "$THREADS")
ours=$(build/bench/bench_classify "$MODEL" "$WORK/sst2-dev.jsonl" "$THREADS" "$BATCH" "$REPS" 768:12:3072)
peer=$("$PY" bench/torch_peer.py "$MODEL" "$WORK/elang-out.jsonl" --threads "$THREADS" --batch "$BATCH" --reps "$REPS")
"$PY" - "$peak" "$ours" "$peer" "$THREADS" "$BATCH" <<'PYEOF'
import json, sys
peak, ours, peer = (json.loads(s) for s in sys.argv[1:4])
print(f"BERT-Base (random weights), SST-2 dev: {ours['inputs']} sentences, {ours['tokens']} tokens, "
      f"threads {sys.argv[4]}, batch {sys.argv[5]}")
print(f"  SGEMM peak (OpenBLAS): {peak['sgemm_2048']} GFLOP/s square 2048; "
      f"{peak['sgemm_tokens1024_768x3072']} GFLOP/s at 1024x768x3072")
print(f"  elang:   {ours['seconds']:.3f} s  ({ours['inputs_per_s']:.0f} inputs/s, {ours['gflops']} GFLOP/s achieved)")
print(f"  PyTorch: {peer['seconds']:.3f} s  (max |logit diff| vs elang {peer['max_logit_diff_vs_elang']:.2e})")
print(f"  speed ratio elang/PyTorch: {peer['seconds'] / ours['seconds']:.2f}x")
PYEOF
