#!/usr/bin/env python3
"""The PyTorch peer of the Llama rows: tools/train/llama.py's
LlamaForCausalLM (the module the decoder-only demo models were trained with;
its greedy() is transformers' greedy search with a key/value cache, the
output layer only at the last position) loaded with the benchmark model's
weights, continuing the prompts elang's tokenizer made (bench_generate's
OUT.jsonl), left-padded in elang's batches (benchlib.batches), and checked
against elang's greedy ids.

    bench/torch_llama.py MODEL_DIR GEN.jsonl --threads N --batch B --reps R --dtype f32|bf16 [--max-new 64]

--dtype: f32 plain eager; bf16 under torch.autocast("cpu", torch.bfloat16).

Times, like bench_generate, REPS passes (after one untimed) that generate
one token (prompt processing) and REPS that generate --max-new; prints one
JSON line with both medians, prompt tokens/s, decoding tokens/s ((tokens −
inputs) / (pass − one-token pass)), how many inputs' ids equal elang's, and
the peak resident memory.
"""
import argparse

import benchlib

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("gen", help="bench_generate OUT.jsonl: input_ids and elang's ids")
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--batch", type=int, default=1)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
ap.add_argument("--max-new", type=int, default=64)
a = ap.parse_args()
benchlib.peer_setup(a.threads)

import torch  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402


def main():
    torch.set_num_threads(a.threads)
    model, context = benchlib.peer_model(LlamaForCausalLM, a.model, a.dtype)

    rows = benchlib.read_jsonl(a.gen)
    batches = []
    for idx in benchlib.batches(rows, a.batch):
        ids, mask = benchlib.padded(rows, idx, left=True)
        batches.append((idx, torch.tensor(ids), torch.tensor(mask)))

    def passes(max_new):
        times, outputs = [], {}
        with torch.inference_mode(), context():
            for r in range(a.reps + 1):
                total = 0.0
                for idx, ids, mask in batches:
                    seconds, out = benchlib.timed(lambda: model.greedy(ids, mask, max_new, eos=-1))
                    total += seconds
                    outputs.update(zip(idx, out))
                if r > 0:
                    times.append(total)
        return times, outputs

    prefill_runs, _ = passes(1)
    runs, outputs = passes(a.max_new)
    produced = [len(outputs[i]) for i in range(len(rows))]
    prompt_tokens = sum(len(row["input_ids"]) for row in rows)
    s, prefill = benchlib.median(runs), benchlib.median(prefill_runs)
    benchlib.emit({"engine": "torch", "dtype": a.dtype, "threads": torch.get_num_threads(), "batch": a.batch,
                   "inputs": len(rows), "source_tokens": prompt_tokens, "tokens": sum(produced),
                   "min_new_tokens": min(produced), "max_new_tokens": max(produced),
                   "runs": [round(x, 4) for x in runs], "seconds": round(s, 4),
                   "tokens_per_s": round(sum(produced) / s, 2), "prefill_seconds": round(prefill, 4),
                   "prompt_tokens_per_s": round(prompt_tokens / prefill, 2),
                   "decode_tokens_per_s": round((sum(produced) - len(rows)) / (s - prefill), 2),
                   "same_ids_as_elang": sum(outputs[i] == row["ids"] for i, row in enumerate(rows)),
                   "torch": torch.__version__, "env": benchlib.peer_environment()})


if __name__ == "__main__":
    main()
