#!/usr/bin/env python3
"""The peer elang's classifier speed is measured against: the same BERT
forward pass written with PyTorch eager ops (Debian python3-torch), on the
same token ids, batched the same way (by length, longest first).

Reads the model directory (config.json + model.safetensors, F32) and the
output of `elang classify --emit-ids` (for the ids and, as a cross-check,
elang's logits). Prints one JSON line: median seconds over the runs, and the
largest logit difference from elang's.

    bench/torch_peer.py MODEL_DIR ELANG_OUTPUT.jsonl --threads 2 --batch 32 --reps 5
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":
            continue
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"])
    return out


def bert_logits(w, cfg, ids, types, mask):
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = H // nh
    eps = cfg.get("layer_norm_eps", 1e-12)
    B, S = ids.shape
    p = "bert."
    x = w[p + "embeddings.word_embeddings.weight"][ids]
    x = x + w[p + "embeddings.position_embeddings.weight"][:S].unsqueeze(0)
    x = x + w[p + "embeddings.token_type_embeddings.weight"][types]
    x = F.layer_norm(x, (H,), w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(cfg["num_hidden_layers"]):
        l = f"{p}encoder.layer.{i}."
        lin = lambda t, name: F.linear(t, w[l + name + ".weight"], w[l + name + ".bias"])
        split = lambda t: t.view(B, S, nh, dh).transpose(1, 2)
        q, k, v = split(lin(x, "attention.self.query")), split(lin(x, "attention.self.key")), split(lin(x, "attention.self.value"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(B, S, H)
        x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (H,),
                         w[l + "attention.output.LayerNorm.weight"], w[l + "attention.output.LayerNorm.bias"], eps)
        h = F.gelu(lin(x, "intermediate.dense"))
        x = F.layer_norm(lin(h, "output.dense") + x, (H,),
                         w[l + "output.LayerNorm.weight"], w[l + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(F.linear(x[:, 0], w[p + "pooler.dense.weight"], w[p + "pooler.dense.bias"]))
    return F.linear(pooled, w["classifier.weight"], w["classifier.bias"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("elang_output")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    w = load_safetensors(os.path.join(a.model, "model.safetensors"))
    rows = [json.loads(l) for l in open(a.elang_output) if l.strip()]
    order = sorted(range(len(rows)), key=lambda i: (-len(rows[i]["input_ids"]), i))
    batches = []
    for s in range(0, len(order), a.batch):
        idx = order[s:s + a.batch]
        S = max(len(rows[i]["input_ids"]) for i in idx)
        pad = lambda v: v + [0] * (S - len(v))
        ids = torch.tensor([pad(rows[i]["input_ids"]) for i in idx])
        types = torch.tensor([pad(rows[i].get("token_type_ids", [0] * len(rows[i]["input_ids"]))) for i in idx])
        mask = torch.tensor([pad([1] * len(rows[i]["input_ids"])) for i in idx])
        batches.append((idx, ids, types, mask))
    times, diff = [], 0.0
    with torch.inference_mode():
        for r in range(a.reps + 1):
            t0 = time.perf_counter()
            outs = [bert_logits(w, cfg, ids, types, mask) for _, ids, types, mask in batches]
            if r > 0:
                times.append(time.perf_counter() - t0)
        for (idx, *_), logits in zip(batches, outs):
            for row, i in enumerate(idx):
                diff = max(diff, max(abs(x - y) for x, y in zip(logits[row].tolist(), rows[i]["logits"])))
    times.sort()
    print(json.dumps({"inputs": len(rows), "seconds": round(times[len(times) // 2], 4),
                      "threads": torch.get_num_threads(), "max_logit_diff_vs_elang": diff}))


if __name__ == "__main__":
    main()
