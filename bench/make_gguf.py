#!/usr/bin/env python3
"""Writes a Hugging Face Llama directory (bench/make_model.py llama) as a
GGUF file llama.cpp loads, for the llama.cpp peer of the benchmark
(bench/llamacpp_llama.mjs). Our own writer, Debian python3 only (torch,
numpy, sentencepiece); llama.cpp's Python package is not needed:

    bench/make_gguf.py MODEL_DIR OUT.gguf [--dtype f32|bf16]

GGUF (version 3) is one little-endian file: the magic "GGUF", the version,
the tensor count and the metadata count; the metadata (key, value type,
value); for each tensor its name, dimensions, GGML type and the offset of
its data; padding to the alignment; then the tensors' data, each starting
on a multiple of the alignment. Strings are a u64 byte count and UTF-8
bytes without a terminator, arrays an element type, a u64 count and the
elements.

Choices, and why:

- general.architecture "llama" and the llama.* keys llama.cpp reads for
  it (sizes, head counts, the RMS norm epsilon, the rotary base), copied
  from config.json; key and value lengths are written too (64, which
  llama.cpp would also derive as hidden / heads).
- Dimensions are GGML's order, fastest first: a PyTorch weight of shape
  [out, in] (row-major) is the GGML tensor {in, out} with the same bytes,
  and y = W x is what llama.cpp computes with it. So the matrices are
  written as they are, only their shape listed reversed.
- Q and K rows are permuted. HF's Llama rotates the two halves of each head
  (feature i with feature i + d/2, "rotate_half"); llama.cpp's llama
  architecture uses GGML's normal rotary mode, which rotates adjacent pairs
  (feature 2i with 2i + 1). Both use the angle pos * theta^(-2i/d) for the
  i-th pair, so storing head row i at 2i and row i + d/2 at 2i + 1 makes
  GGML's rotation compute HF's. The scores are dot products over a whole
  head, which a permutation of the features within a head shared by q and
  k leaves unchanged, so nothing else changes (V and the output projection
  are untouched). K has its own (fewer, with grouped-query attention) heads.
- The output layer is tied to the embedding (tie_word_embeddings), and no
  output.weight is written: llama.cpp's llama loader takes token_embd.weight
  as the output matrix when output.weight is absent, so the file holds the
  100 MB embedding once, as elang's model does.
- Norm weights (1-D) stay F32 in either dtype, as llama.cpp's own
  converter keeps them: they are tiny and GGML's kernels for them want F32.
  The matrices and the embedding are F32 (GGML type 0) or BF16 (type 30),
  rounded to nearest even from the F32 weights, which is what torch's
  conversion does and also how elang rounds its BF16 weights.
  general.file_type says which (0 all F32, 32 mostly BF16).
- The tokenizer is written as llama.cpp's "llama" (SentencePiece) model:
  pieces, scores and types of the tokenizer.model's 1,000 pieces, and
  "[PAD1000]" ... "[PAD31999]" as unused tokens for the ids beyond it, so
  the vocabulary has the embedding's 32,000 rows (llama.cpp requires
  distinct token texts). BOS 1, EOS 2, unknown 0; BOS added, EOS not
  (tokenizer_config.json). The benchmark passes token ids, so llama.cpp's
  tokenizer only has to load.
- Alignment 32 (GGUF's default, written out as general.alignment).
"""
import argparse
import json
import os
import struct
import sys

import benchlib  # noqa: F401  (puts tools/train on the path)
import numpy as np
import sentencepiece
import torch
from trainutil import read_safetensors

ALIGNMENT = 32

# GGUF metadata value types (gguf.h, enum gguf_type).
UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# GGML tensor types (ggml.h, enum ggml_type).
GGML_F32, GGML_BF16 = 0, 30
# llama.cpp's llama_ftype: all F32, mostly BF16 (norms stay F32).
FILE_TYPE = {"f32": 0, "bf16": 32}
# llama.cpp's token types (llama_token_type).
NORMAL, UNKNOWN, CONTROL, UNUSED, BYTE = 1, 2, 3, 5, 6


def gguf_string(s):
    raw = s.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def gguf_value(vtype, value):
    """The bytes of one metadata value of type vtype (not arrays)."""
    if vtype == UINT32:
        return struct.pack("<I", value)
    if vtype == INT32:
        return struct.pack("<i", value)
    if vtype == FLOAT32:
        return struct.pack("<f", value)
    if vtype == BOOL:
        return struct.pack("<B", 1 if value else 0)
    if vtype == STRING:
        return gguf_string(value)
    raise ValueError(f"unsupported GGUF value type {vtype}")


def metadata_bytes(kvs):
    """kvs: [(key, type, value)] or [(key, ARRAY, (element type, values))]."""
    out = bytearray()
    for key, vtype, value in kvs:
        out += gguf_string(key) + struct.pack("<I", vtype)
        if vtype == ARRAY:
            etype, values = value
            out += struct.pack("<IQ", etype, len(values))
            if etype == FLOAT32:
                out += np.asarray(values, dtype="<f4").tobytes()
            elif etype == INT32:
                out += np.asarray(values, dtype="<i4").tobytes()
            else:
                for v in values:
                    out += gguf_value(etype, v)
        else:
            out += gguf_value(vtype, value)
    return bytes(out)


def vocabulary(model_dir, vocab_size):
    """(tokens, scores, types) for all vocab_size ids: the tokenizer.model's
    pieces, then unused padding tokens."""
    path = os.path.join(model_dir, "tokenizer.model")
    if not os.path.isfile(path):
        sys.exit(f"make_gguf.py: {path} not found (a Llama directory has its SentencePiece tokenizer.model)")
    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    n = sp.get_piece_size()
    if n > vocab_size:
        sys.exit(f"make_gguf.py: the tokenizer has {n} pieces, more than the model's vocab_size {vocab_size}")
    tokens, scores, types = [], [], []
    for i in range(n):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(UNKNOWN)
        elif sp.is_control(i):
            types.append(CONTROL)
        elif sp.is_byte(i):
            types.append(BYTE)
        elif sp.is_unused(i):
            types.append(UNUSED)
        else:
            types.append(NORMAL)
    for i in range(n, vocab_size):
        tokens.append(f"[PAD{i}]")
        scores.append(-1000.0)
        types.append(UNUSED)
    if len(set(tokens)) != len(tokens):
        sys.exit("make_gguf.py: the vocabulary has repeated token texts, which llama.cpp refuses")
    return tokens, scores, types


def rope_to_adjacent_pairs(w, n_heads):
    """Rows of a Q or K projection [n_heads * d, in] reordered within each
    head from HF's halves layout (pair i = rows i and i + d/2) to GGML's
    adjacent pairs (pair i = rows 2i and 2i + 1)."""
    rows, cols = w.shape
    d = rows // n_heads
    # [head, half, i, in] -> [head, i, half, in]: row i of the first half
    # and row i of the second become rows 2i and 2i + 1 of the head.
    return w.reshape(n_heads, 2, d // 2, cols).transpose(1, 2).reshape(rows, cols)


def tensor_bytes(t, dtype):
    """The little-endian bytes of an F32 tensor stored in dtype (1-D
    tensors always F32, as the tensor infos say)."""
    t = t.detach().contiguous()
    if dtype == "bf16" and t.dim() > 1:
        # Round to nearest even (torch's conversion); NumPy has no bfloat16,
        # so the 16-bit patterns go out as int16.
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    return t.float().numpy().astype("<f4").tobytes()


def main():
    ap = argparse.ArgumentParser(description="Writes a Hugging Face Llama directory as a GGUF file for llama.cpp.")
    ap.add_argument("model", help="a LlamaForCausalLM directory: config.json, model.safetensors, tokenizer.model")
    ap.add_argument("out", help="the GGUF file to write")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                    help="the matrices' and the embedding's type (norm weights stay F32)")
    a = ap.parse_args()

    config_path = os.path.join(a.model, "config.json")
    weights_path = os.path.join(a.model, "model.safetensors")
    for path in (config_path, weights_path):
        if not os.path.isfile(path):
            sys.exit(f"make_gguf.py: {path} not found")
    with open(config_path) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "llama":
        sys.exit(f"make_gguf.py: {config_path} has model_type {cfg.get('model_type')!r}, not 'llama'")
    hidden, n_layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads", n_heads)
    head_dim = cfg.get("head_dim") or hidden // n_heads
    vocab_size = cfg["vocab_size"]
    if cfg.get("rope_scaling"):
        sys.exit(f"make_gguf.py: rope_scaling {cfg['rope_scaling']} is not supported (plain rotary only)")
    if cfg.get("attention_bias") or cfg.get("mlp_bias"):
        sys.exit("make_gguf.py: projection biases are not supported")

    tokens, scores, types = vocabulary(a.model, vocab_size)
    kvs = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, os.path.basename(os.path.normpath(a.model))),
        ("general.file_type", UINT32, FILE_TYPE[a.dtype]),
        ("general.alignment", UINT32, ALIGNMENT),
        ("llama.vocab_size", UINT32, vocab_size),
        ("llama.context_length", UINT32, cfg["max_position_embeddings"]),
        ("llama.embedding_length", UINT32, hidden),
        ("llama.block_count", UINT32, n_layers),
        ("llama.feed_forward_length", UINT32, cfg["intermediate_size"]),
        ("llama.rope.dimension_count", UINT32, head_dim),
        ("llama.rope.freq_base", FLOAT32, float(cfg.get("rope_theta", 10000.0))),
        ("llama.attention.head_count", UINT32, n_heads),
        ("llama.attention.head_count_kv", UINT32, n_kv),
        ("llama.attention.key_length", UINT32, head_dim),
        ("llama.attention.value_length", UINT32, head_dim),
        ("llama.attention.layer_norm_rms_epsilon", FLOAT32, float(cfg["rms_norm_eps"])),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.scores", ARRAY, (FLOAT32, scores)),
        ("tokenizer.ggml.token_type", ARRAY, (INT32, types)),
        ("tokenizer.ggml.bos_token_id", UINT32, cfg.get("bos_token_id", 1)),
        ("tokenizer.ggml.eos_token_id", UINT32, cfg.get("eos_token_id", 2)),
        ("tokenizer.ggml.unknown_token_id", UINT32, 0),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
        ("tokenizer.ggml.add_eos_token", BOOL, False),
    ]

    # HF name -> (llama.cpp name, heads to permute for rotary, or 0).
    sd = read_safetensors(weights_path)
    names = [("model.embed_tokens.weight", "token_embd.weight", 0)]
    for i in range(n_layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        names += [
            (p + "input_layernorm.weight", b + "attn_norm.weight", 0),
            (p + "self_attn.q_proj.weight", b + "attn_q.weight", n_heads),
            (p + "self_attn.k_proj.weight", b + "attn_k.weight", n_kv),
            (p + "self_attn.v_proj.weight", b + "attn_v.weight", 0),
            (p + "self_attn.o_proj.weight", b + "attn_output.weight", 0),
            (p + "post_attention_layernorm.weight", b + "ffn_norm.weight", 0),
            (p + "mlp.gate_proj.weight", b + "ffn_gate.weight", 0),
            (p + "mlp.up_proj.weight", b + "ffn_up.weight", 0),
            (p + "mlp.down_proj.weight", b + "ffn_down.weight", 0),
        ]
    names.append(("model.norm.weight", "output_norm.weight", 0))
    if "lm_head.weight" in sd and not cfg.get("tie_word_embeddings", False):
        names.append(("lm_head.weight", "output.weight", 0))
    missing = [hf for hf, _, _ in names if hf not in sd]
    if missing:
        sys.exit(f"make_gguf.py: {weights_path} lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")

    # Tensor infos first (they need every tensor's type and offset: sizes
    # follow from the shapes), then the data, one tensor converted at a time.
    infos, offset = bytearray(), 0
    for hf, name, heads in names:
        shape = sd[hf].shape
        gtype = GGML_BF16 if a.dtype == "bf16" and len(shape) > 1 else GGML_F32
        size = sd[hf].numel() * (2 if gtype == GGML_BF16 else 4)
        dims = list(reversed(shape))  # GGML order: fastest-varying first
        infos += gguf_string(name) + struct.pack("<I", len(dims))
        infos += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", gtype, offset)
        offset += size + (-size % ALIGNMENT)

    header = b"GGUF" + struct.pack("<IQQ", 3, len(names), len(kvs)) + metadata_bytes(kvs) + bytes(infos)
    partial = a.out + ".partial"
    with open(partial, "wb") as f:
        f.write(header + b"\0" * (-len(header) % ALIGNMENT))
        for hf, name, heads in names:
            t = sd[hf]
            if heads:
                t = rope_to_adjacent_pairs(t, heads)
            raw = tensor_bytes(t, a.dtype)
            f.write(raw + b"\0" * (-len(raw) % ALIGNMENT))
    os.replace(partial, a.out)
    print(f"make_gguf.py: {a.out}: {len(names)} tensors ({a.dtype}), {vocab_size} tokens, "
          f"{os.path.getsize(a.out) / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
