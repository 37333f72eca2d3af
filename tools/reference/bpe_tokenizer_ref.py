#!/usr/bin/env python3
"""An independent, stdlib-only reference of what transformers 4.25's Python
RobertaTokenizer (GPT-2 byte-level BPE) produces, written from the algorithm,
not from transformers' code:

  1. The special tokens <s> </s> <unk> <pad> <mask> written literally in the
     text are cut out; <mask> also eats the whitespace before it.
  2. GPT-2's pre-tokenization pattern
        's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
     needs the third-party `regex` module. Here the same pattern runs on
     Python's `re`, with \\p{L}, \\p{N} and \\s spelled out as explicit
     character classes: letters and numbers from unicodedata's general
     categories, whitespace as the Unicode White_Space property (which is what
     `regex` means by \\s; `re`'s \\s would add U+001C..U+001F).
  3. Each piece's UTF-8 bytes become printable characters (GPT-2's byte map:
     printable Latin-1 bytes stand for themselves, the 68 others map in order
     to U+0100 onwards).
  4. BPE: merge every occurrence of the adjacent pair ranked lowest in
     merges.txt (its first line is a header) until no pair is ranked; look
     each symbol up in vocab.json, <unk> when absent.
  5. <s> a </s> (</s> b </s>), truncated longest_first.

Usage: bpe_tokenizer_ref.py MODEL_DIR GLUE_DIR OUT.jsonl
checks itself against MODEL_DIR/cases.jsonl, then writes the ids of the first
300 SST-2 dev sentences and the first 150 MRPC dev pairs to OUT.jsonl.
"""

import json
import os
import re
import sys
import unicodedata

from common import check_fixture, glue_inputs, truncate_longest_first, write_expected

MAX_LENGTH = 64
SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<mask>"]
# PropList.txt, White_Space=Yes.
WHITE_SPACE = [0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
               0x2028, 0x2029, 0x202F, 0x205F, 0x3000]


def class_body(codepoints):
    """The inside of a [...] class matching exactly these code points."""
    parts, cps = [], sorted(codepoints)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\U{cps[i]:08x}" + (f"-\\U{cps[j]:08x}" if j > i else ""))
        i = j + 1
    return "".join(parts)


def gpt2_pattern():
    letters, numbers = [], []
    for cp in range(0x110000):
        major = unicodedata.category(chr(cp))[0]
        if major == "L":
            letters.append(cp)
        elif major == "N":
            numbers.append(cp)
    L, N, S = class_body(letters), class_body(numbers), class_body(WHITE_SPACE)
    return re.compile(
        rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+")


def byte_chars():
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class ByteBPE:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(os.path.join(model_dir, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")[1:-1]
        self.rank = {}
        for i, line in enumerate(lines):
            parts = tuple(line.split())
            if len(parts) == 2:
                self.rank[parts] = i
        self.pattern = gpt2_pattern()
        self.byte_char = byte_chars()

    def bpe(self, word):
        symbols = list(word)
        while len(symbols) > 1:
            ranked = [(self.rank[p], p) for p in zip(symbols, symbols[1:]) if p in self.rank]
            if not ranked:
                break
            _, (left, right) = min(ranked)
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
                    merged.append(left + right)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return symbols

    def tokenize(self, text):
        ids, start, i = [], 0, 0
        chunks = []
        while i < len(text):
            found = max((s for s in SPECIALS if text.startswith(s, i)), key=len, default=None)
            if found:
                chunk = text[start:i]
                chunks.append(chunk.rstrip() if found == "<mask>" else chunk)
                chunks.append(found)
                i = start = i + len(found)
            else:
                i += 1
        chunks.append(text[start:])
        for k, chunk in enumerate(chunks):
            if k % 2:
                ids.append(self.vocab[chunk])
                continue
            for piece in self.pattern.findall(chunk):
                word = "".join(self.byte_char[b] for b in piece.encode("utf-8"))
                ids += [self.vocab.get(s, self.vocab["<unk>"]) for s in self.bpe(word)]
        return ids

    def encode(self, text, pair=None, max_length=MAX_LENGTH):
        bos, eos = self.vocab["<s>"], self.vocab["</s>"]
        a = self.tokenize(text)
        b = self.tokenize(pair) if pair is not None else None
        a, b = truncate_longest_first(a, b, max_length - (2 if b is None else 4))
        ids = [bos] + a + [eos]
        if b is not None:
            ids += [eos] + b + [eos]
        return ids, [0] * len(ids)


def main(model_dir, glue_dir, out):
    bpe = ByteBPE(model_dir)
    n = check_fixture(bpe.encode, os.path.join(model_dir, "cases.jsonl"))
    print(f"reference reproduces the {n} encodings of {model_dir}/cases.jsonl")
    inputs = glue_inputs(glue_dir, 300, 150)
    write_expected(out, bpe.encode, inputs, with_types=False)
    print(f"wrote {len(inputs)} expectations to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
