#!/usr/bin/env python3
"""Writes the benchmark's inputs as JSONL ({"text": ...} per line) into a
directory:

  sst2-dev.jsonl     the 872 GLUE SST-2 dev sentences (real lengths)
  bert128.jsonl      --long texts that BERT's tokenizer makes exactly 128
                     tokens ([CLS], 126 words, [SEP]): each word is a random
                     whole-word entry of bert-base-uncased's vocabulary
                     between ids 1000 and 29000 (lower-case letters only, so
                     WordPiece keeps it as one token); bench_classify checks
                     the count elang's tokenizer reports
  multi30k-en.jsonl  the first --sources English sentences of Multi30k's 2016
                     test set (the engines add T5's task prefix)
  llama128.jsonl     --prompts prompts that the llama fixture's tokenizer
                     (the benchmark Llama's) makes exactly 128 tokens (<s>
                     and 127 pieces): random words of Multi30k's English
                     training captions, a word swapped for another until the
                     count is right (SentencePiece in Python, Debian's
                     python3-sentencepiece)

elang's C API takes text, so texts are what every engine starts from; the
peers then run on the ids elang's tokenizer made of them.

    bench/make_inputs.py OUT_DIR [--shared ../shared] [--long 64] [--sources 32] [--prompts 16]
"""
import argparse
import json
import os
import random
import re

import benchlib


def write(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shared", default=os.path.join(benchlib.HERE, "..", "..", "shared"))
    ap.add_argument("--long", type=int, default=64, help="128-token texts")
    ap.add_argument("--sources", type=int, default=32, help="Multi30k source sentences")
    ap.add_argument("--prompts", type=int, default=16, help="128-token Llama prompts")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    with open(os.path.join(a.shared, "data", "glue", "SST-2", "dev.tsv"), encoding="utf-8") as f:
        rows = f.read().splitlines()[1:]  # a header line, then sentence<TAB>label
    write(os.path.join(a.out, "sst2-dev.jsonl"), [r.split("\t")[0] for r in rows if r])

    with open(os.path.join(a.shared, "fixtures", "hf", "bert", "vocab.txt"), encoding="utf-8") as f:
        vocab = f.read().splitlines()
    words = [w for w in vocab[1000:29001] if re.fullmatch(r"[a-z]+", w)]
    rng = random.Random(a.seed)
    write(os.path.join(a.out, "bert128.jsonl"), [" ".join(rng.choice(words) for _ in range(126)) for _ in range(a.long)])

    with open(os.path.join(a.shared, "data", "multi30k", "test_2016_flickr.en"), encoding="utf-8") as f:
        sources = [s.strip() for s in f if s.strip()]
    write(os.path.join(a.out, "multi30k-en.jsonl"), sources[:a.sources])
    write(os.path.join(a.out, "llama128.jsonl"), llama_prompts(a.shared, a.prompts, 127, rng))


def llama_prompts(shared, count, pieces, rng):
    """`count` texts of exactly `pieces` SentencePiece pieces."""
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(
        model_file=os.path.join(shared, "fixtures", "hf", "llama", "tokenizer.model"))
    with open(os.path.join(shared, "data", "multi30k", "train.en"), encoding="utf-8") as f:
        words = sorted({w for line in f for w in line.split() if re.fullmatch(r"[a-z]+", w)})
    prompts = []
    while len(prompts) < count:
        text = []
        while len(sp.encode(" ".join(text))) < pieces:
            text.append(rng.choice(words))
        for _ in range(100):
            if len(sp.encode(" ".join(text))) == pieces:
                prompts.append(" ".join(text))
                break
            text[-1] = rng.choice(words)  # the last word made it too long: another
    return prompts


if __name__ == "__main__":
    main()
