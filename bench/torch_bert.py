#!/usr/bin/env python3
"""The PyTorch peer of the BERT rows: tools/train/bert.py's
BertForSequenceClassification (the module the demo classifiers were trained
with) loaded with the benchmark model's weights, run eagerly on the ids
elang's tokenizer made (bench_classify's OUT.jsonl), batched as elang batches
(benchlib.batches), and checked against elang's F32 logits.

    bench/torch_bert.py MODEL_DIR IDS.jsonl --threads N --batch B --reps R --dtype f32|bf16|int8

--dtype:
  f32   plain eager F32 (Debian's torch: nn.Linear through OpenBLAS)
  bf16  the same model under torch.autocast("cpu", torch.bfloat16): linear
        layers and attention products in BF16 (oneDNN), the rest F32
  int8  torch.ao.quantization.quantize_dynamic on every nn.Linear (qint8
        weights per tensor, activations quantized per batch at run time),
        with torch's default quantized engine on this build

Prints one JSON line: the median pass (REPS timed passes after one untimed),
inputs/s, with batch 1 the median latency of the REPS x inputs single-input
calls, the largest |logit - elang's logit| and the peak resident memory.
"""
import argparse

import benchlib

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("ids", help="bench_classify OUT.jsonl: input_ids and elang's logits")
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--dtype", choices=["f32", "bf16", "int8"], default="f32")
a = ap.parse_args()
benchlib.peer_setup(a.threads)

import torch  # noqa: E402
from bert import BertForSequenceClassification  # noqa: E402


def main():
    torch.set_num_threads(a.threads)
    model, context = benchlib.peer_model(BertForSequenceClassification, a.model, a.dtype)

    rows = benchlib.read_jsonl(a.ids)
    batches = []
    for idx in benchlib.batches(rows, a.batch):
        ids, mask = benchlib.padded(rows, idx)
        batches.append((idx, torch.tensor(ids), torch.tensor(mask)))

    # A pass is the sum of the forward calls' times: the ids are ready-made
    # tensors and copying logits out is not counted, while elang's pass
    # includes tokenizing the texts (the comparison favours the peer).
    passes, calls, logits = [], [], {}
    with torch.inference_mode(), context():
        for r in range(a.reps + 1):
            total = 0.0
            for idx, ids, mask in batches:
                seconds, out = benchlib.timed(lambda: model(ids, mask))
                total += seconds
                if r > 0 and a.batch == 1:
                    calls.append(seconds)
                for row, i in enumerate(idx):
                    logits[i] = out[row].float().tolist()
            if r > 0:
                passes.append(total)
    diff = max(abs(x - y) for i, row in enumerate(rows) for x, y in zip(logits[i], row["logits"]))
    s = benchlib.median(passes)
    result = {"engine": "torch", "dtype": a.dtype, "threads": torch.get_num_threads(), "batch": a.batch,
              "inputs": len(rows), "runs": [round(x, 4) for x in passes], "seconds": round(s, 4),
              "inputs_per_s": round(len(rows) / s, 2), "max_logit_diff_vs_elang_f32": diff,
              "torch": torch.__version__, "quantized_engine": torch.backends.quantized.engine,
              "env": benchlib.peer_environment()}
    if calls:
        result["latency_ms"] = round(benchlib.median(calls) * 1e3, 3)
    benchlib.emit(result)


if __name__ == "__main__":
    main()
