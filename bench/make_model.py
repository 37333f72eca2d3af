#!/usr/bin/env python3
"""Writes a randomly initialised model of real size as a Hugging Face model
directory elang loads, for benchmarks only (Debian python3-torch):

    bench/make_model.py bert OUT_DIR     BERT-Base classifier (12 layers, 768
                                         wide, 12 heads, 3072 intermediate, 2
                                         labels), the bert-base-uncased
                                         vocabulary from the fixtures
    bench/make_model.py t5 OUT_DIR       T5-small (v1.0: d_model 512, 6 + 6
                                         layers, 8 heads, d_kv 64, d_ff 2048,
                                         ReLU, tied embeddings, vocabulary
                                         32128), the t5 fixture's spiece.model
    bench/make_model.py llama OUT_DIR    a Llama of ~100M parameters (768 wide,
                                         12 layers, 12 query and 4 key/value
                                         heads of 64, SwiGLU 2048, vocabulary
                                         32000, tied embeddings, 2048
                                         positions), the llama fixture's
                                         tokenizer.model

The models are the project's own (tools/train/bert.py, t5.py, llama.py) with their own
initialisation, written in F32 by tools/train/trainutil.py, so the PyTorch
peers load exactly these modules with exactly these weights.

T5's </s> (id 1) gets a zero embedding row. The output layer is the
embedding matrix (tied), so </s>'s logit is exactly 0 at every step, while
the largest of the 32k others is positive: greedy decoding never ends early
and every engine generates exactly max_new_tokens tokens, whatever the random
weights make of the input. So do the rows beyond the tokenizer's 2,100 ids
(its 2,000 pieces and 100 sentinels): decoding an id the tokenizer lacks is
an error in elang (src/tokenize/decode.c), and zero rows are never the
argmax either. The product over all 32,128 rows is computed all the same.
The embedding is also scaled by 0.1 (T5's own
initialisation draws it from N(0, 1)): with embeddings that large the
residual stream is mostly the input token's own embedding, so a random T5
repeats its decoder start token <pad> forever, and equal outputs would say
little about two engines computing the same thing. Scaled, the tokens depend
on the source. Neither change alters any shape or the work per token.

The Llama's embedding (its output layer too, tied) gets the same zero rows:
</s> (id 2) and every id beyond the tokenizer's 1,000 pieces, so that every
engine generates exactly the tokens it is asked for. Llama's own N(0, 0.02)
initialisation already makes the tokens depend on the prompt.
"""
import argparse
import json
import os
import shutil

import benchlib  # noqa: F401  (puts tools/train on the path)
import torch
from bert import BertForSequenceClassification, bert_config
from llama import LlamaForCausalLM, llama_config
from t5 import EOS, T5ForConditionalGeneration, t5_config
from trainutil import write_safetensors


def write_dir(out, config, state_dict, files):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    for src in files:
        shutil.copyfile(src, os.path.join(out, os.path.basename(src)))
    write_safetensors(os.path.join(out, "model.safetensors"), state_dict, "F32")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["bert", "t5", "llama"])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shared", default=os.path.join(benchlib.HERE, "..", "..", "shared"))
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    fixtures = os.path.join(a.shared, "fixtures", "hf")
    if a.kind == "bert":
        cfg = bert_config(30522, 768, 12, 12, 3072, ["negative", "positive"], max_positions=512)
        cfg["torch_dtype"] = "float32"
        model = BertForSequenceClassification(cfg)
        write_dir(a.out, cfg, model.state_dict(), [os.path.join(fixtures, "bert", "vocab.txt")])
        with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
            json.dump({"do_lower_case": True, "model_max_length": 512}, f)
    elif a.kind == "llama":
        cfg = llama_config(32000, 768, 12, 12, 4, 2048, 2048, tie=True)
        cfg["torch_dtype"] = "float32"
        model = LlamaForCausalLM(cfg)
        with open(os.path.join(fixtures, "llama", "config.json")) as f:
            tokenizer_ids = json.load(f)["vocab_size"]
        with torch.no_grad():
            model.model.embed_tokens.weight[cfg["eos_token_id"]].zero_()
            model.model.embed_tokens.weight[tokenizer_ids:].zero_()
        src = os.path.join(fixtures, "llama")
        write_dir(a.out, cfg, model.state_dict_to_save(),
                  [os.path.join(src, f) for f in ("tokenizer.model", "generation_config.json")])
        with open(os.path.join(src, "tokenizer_config.json")) as f:
            tokenizer_config = json.load(f)
        tokenizer_config["model_max_length"] = cfg["max_position_embeddings"]
        with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
            json.dump(tokenizer_config, f, indent=1)
    else:
        cfg = t5_config(32128, 512, 2048, 64, 8, 6, 6)
        cfg["torch_dtype"] = "float32"
        model = T5ForConditionalGeneration(cfg)
        with open(os.path.join(fixtures, "t5", "config.json")) as f:
            tokenizer_ids = json.load(f)["vocab_size"]  # the fixture's model matches its tokenizer
        with torch.no_grad():
            model.shared.weight.mul_(0.1)
            model.shared.weight[EOS].zero_()
            model.shared.weight[tokenizer_ids:].zero_()
        write_dir(a.out, cfg, model.state_dict(), [os.path.join(fixtures, "t5", "spiece.model")])


if __name__ == "__main__":
    main()
