#!/usr/bin/env python3
"""The PyTorch peer of the T5 rows: tools/train/t5.py's
T5ForConditionalGeneration (the module the demo translators were trained
with; its greedy() is transformers' greedy search with a key/value cache)
loaded with the benchmark model's weights, decoding the source ids elang's
tokenizer made (bench_generate's OUT.jsonl), batched as elang batches
(benchlib.batches), and checked against elang's greedy ids.

    bench/torch_t5.py MODEL_DIR GEN.jsonl --threads N --batch B --reps R --dtype f32|bf16|int8 [--max-new 64]

--dtype: f32 plain eager; bf16 under torch.autocast("cpu", torch.bfloat16);
int8 torch.ao.quantization.quantize_dynamic on every nn.Linear (the tied
output layer is a plain matrix product in t5.py, so it stays F32).

Prints one JSON line: the median pass (REPS timed passes after one
untimed), tokens generated (and the fewest and most per input), tokens/s,
how many inputs' ids equal elang's, and the peak resident memory.
"""
import argparse

import benchlib

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("gen", help="bench_generate OUT.jsonl: input_ids and elang's ids")
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--dtype", choices=["f32", "bf16", "int8"], default="f32")
ap.add_argument("--max-new", type=int, default=64)
a = ap.parse_args()
benchlib.peer_setup(a.threads)

import torch  # noqa: E402
from t5 import T5ForConditionalGeneration  # noqa: E402


def main():
    torch.set_num_threads(a.threads)
    model, context = benchlib.peer_model(T5ForConditionalGeneration, a.model, a.dtype)

    rows = benchlib.read_jsonl(a.gen)
    batches = []
    for idx in benchlib.batches(rows, a.batch):
        ids, mask = benchlib.padded(rows, idx)
        batches.append((idx, torch.tensor(ids), torch.tensor(mask)))

    passes, outputs = [], {}
    with torch.inference_mode(), context():
        for r in range(a.reps + 1):
            total = 0.0
            for idx, ids, mask in batches:
                seconds, (out, _) = benchlib.timed(lambda: model.greedy(ids, mask, a.max_new))
                total += seconds
                outputs.update(zip(idx, out))
            if r > 0:
                passes.append(total)
    produced = [len(outputs[i]) - 1 for i in range(len(rows))]  # minus the decoder start token
    s = benchlib.median(passes)
    benchlib.emit({"engine": "torch", "dtype": a.dtype, "threads": torch.get_num_threads(), "batch": a.batch,
                   "inputs": len(rows), "tokens": sum(produced), "min_new_tokens": min(produced),
                   "max_new_tokens": max(produced), "runs": [round(x, 4) for x in passes], "seconds": round(s, 4),
                   "tokens_per_s": round(sum(produced) / s, 2),
                   "same_ids_as_elang": sum(outputs[i] == row["ids"] for i, row in enumerate(rows)),
                   "torch": torch.__version__, "env": benchlib.peer_environment()})


if __name__ == "__main__":
    main()
