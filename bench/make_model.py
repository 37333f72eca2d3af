#!/usr/bin/env python3
"""Writes a randomly initialised BERT sequence classifier of real size (BERT-Base
by default) as a Hugging Face model directory, for benchmarks only.

Needs PyTorch (Debian python3-torch) for the random init, nothing else; the
safetensors file is written with the standard library. The vocabulary is the
bert-base-uncased one from the shared fixtures.

    bench/make_model.py OUT_DIR [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
"""
import argparse
import json
import os
import shutil
import struct

import torch


def tensors(cfg, gen):
    H, I, V, P = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"]

    def rnd(*shape):
        return torch.randn(*shape, generator=gen) * 0.02

    t = {
        "bert.embeddings.word_embeddings.weight": rnd(V, H),
        "bert.embeddings.position_embeddings.weight": rnd(P, H),
        "bert.embeddings.token_type_embeddings.weight": rnd(2, H),
        "bert.embeddings.LayerNorm.weight": torch.ones(H),
        "bert.embeddings.LayerNorm.bias": torch.zeros(H),
    }
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        for name, (rows, cols) in {
            "attention.self.query": (H, H), "attention.self.key": (H, H),
            "attention.self.value": (H, H), "attention.output.dense": (H, H),
            "intermediate.dense": (I, H), "output.dense": (H, I),
        }.items():
            t[p + name + ".weight"] = rnd(rows, cols)
            t[p + name + ".bias"] = rnd(rows)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + ln + ".weight"] = torch.ones(H)
            t[p + ln + ".bias"] = torch.zeros(H)
    t["bert.pooler.dense.weight"] = rnd(H, H)
    t["bert.pooler.dense.bias"] = rnd(H)
    t["classifier.weight"] = rnd(2, H)
    t["classifier.bias"] = rnd(2)
    return t


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        data = value.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=3072)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    a = ap.parse_args()
    cfg = {
        "model_type": "bert", "architectures": ["BertForSequenceClassification"],
        "vocab_size": 30522, "hidden_size": a.hidden, "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads, "intermediate_size": a.intermediate,
        "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "hidden_act": "gelu", "pad_token_id": 0, "id2label": {"0": "negative", "1": "positive"},
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512}, f)
    shutil.copy(os.path.join(a.shared, "fixtures", "hf", "bert", "vocab.txt"), a.out)
    gen = torch.Generator().manual_seed(a.seed)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors(cfg, gen))


if __name__ == "__main__":
    main()
