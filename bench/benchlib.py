"""Shared by the benchmark's Python scripts (the model writers, the input
writer and the PyTorch peers): the process settings a peer runs with, the
batching every engine uses, medians, peak memory and the one-line JSON
results that bench/report.py reads.

The models themselves are the project's training code (tools/train/bert.py,
tools/train/t5.py, tools/train/llama.py) and so is the safetensors reader and writer
(tools/train/trainutil.py): the peers run the very modules the demo models
were trained with, loaded with the weights elang loads.

Run as a script it writes the batches of an ids file for the ONNX Runtime
peer (which is JavaScript and cannot import this):

    benchlib.py batches IDS.jsonl BATCH OUT.json
"""

import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "train"))

# Process settings for a PyTorch peer, applied before torch is imported (the
# libraries read them when they load):
# - OPENBLAS_CORETYPE: Debian's PyTorch multiplies F32 through OpenBLAS
#   0.3.21, which takes this CPU for a "Prescott" (SSE3 kernels) unless told
#   its family; SKYLAKEX is the newest AVX-512 kernel set 0.3.21 has.
# - glibc's malloc keeps freed memory instead of returning it to the kernel
#   (the same settings as tools/train/runtime.py): eager PyTorch allocates
#   and frees tensors of megabytes on every operation, and on this virtual
#   machine faulting fresh pages in costs more than the arithmetic on them.
# OMP_NUM_THREADS is set by peer_setup() from --threads.
PEER_ENVIRONMENT = {
    "OPENBLAS_CORETYPE": "SKYLAKEX",
    "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "MALLOC_ARENA_MAX": "1",
}


def peer_setup(threads):
    """Re-executes the script once with PEER_ENVIRONMENT and
    OMP_NUM_THREADS=threads (variables already set are kept, so a caller can
    override any of them); returns once they are in force. Call before
    importing torch."""
    want = dict(PEER_ENVIRONMENT, OMP_NUM_THREADS=str(threads))
    missing = {k: v for k, v in want.items() if k not in os.environ}
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable] + sys.argv)


def peer_environment():
    """The settings in force, for the result line (so the table can say
    exactly what the peer ran with)."""
    keys = list(PEER_ENVIRONMENT) + ["OMP_NUM_THREADS"]
    return {k: os.environ.get(k) for k in keys}


def peer_model(cls, model_dir, dtype):
    """A peer's model: the project's module `cls` with model_dir's weights,
    as the peer runs it in `dtype` (int8: quantize_dynamic on every
    nn.Linear), and the context its forward calls run in (bf16:
    torch.autocast on the CPU). Imports torch: call after peer_setup()."""
    import contextlib

    import torch
    from trainutil import load_model

    model = load_model(cls, model_dir)
    if dtype == "int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    context = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bf16" else contextlib.nullcontext
    return model, context


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def batches(rows, size, key="input_ids"):
    """elang's batching (src/api/classify.c, generate.c): the inputs sorted
    by length, longest first, ties in input order, then cut into batches of
    `size`. Returns lists of row indices."""
    order = sorted(range(len(rows)), key=lambda i: (-len(rows[i][key]), i))
    return [order[s:s + size] for s in range(0, len(order), size)]


def padded(rows, idx, pad=0, key="input_ids", left=False):
    """The ids of rows idx padded to the longest with `pad` (on the left for
    a decoder-only model's prompts, as elang pads them), and the attention
    mask (1 = token), as lists of lists."""
    S = max(len(rows[i][key]) for i in idx)

    def side(row, fill):
        return [fill] * (S - len(row)) + row if left else row + [fill] * (S - len(row))

    ids = [side(rows[i][key], pad) for i in idx]
    mask = [side([1] * len(rows[i][key]), 0) for i in idx]
    return ids, mask


def median(xs):
    return statistics.median(xs)


def timed(fn):
    """(seconds, fn())"""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result):
    """The result line on stdout, with the process's peak memory."""
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result), flush=True)


def main():
    if len(sys.argv) != 5 or sys.argv[1] != "batches":
        sys.exit(__doc__)
    rows = read_jsonl(sys.argv[2])
    out = []
    for idx in batches(rows, int(sys.argv[3])):
        ids, mask = padded(rows, idx)
        out.append({"rows": idx, "input_ids": ids, "attention_mask": mask})
    with open(sys.argv[4], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
