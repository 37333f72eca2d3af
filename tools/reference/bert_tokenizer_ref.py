#!/usr/bin/env python3
"""An independent, stdlib-only reference of what transformers 4.25's Python
BertTokenizer produces, written from the algorithm (BasicTokenizer then
greedy WordPiece), not from transformers' code:

  1. The special tokens [UNK] [SEP] [PAD] [CLS] [MASK] written literally in
     the text are cut out first; with do_lower_case the rest is lowercased one
     character at a time.
  2. Cleaning: NUL, U+FFFD and every character of a C* category except tab,
     newline and carriage return are dropped; those three and Zs become a
     space.
  3. Every CJK Unified Ideograph (BERT's ranges) is surrounded by spaces.
  4. Words are what str.split() gives. Each is lowercased and NFD'd without
     its Mn marks (strip_accents None follows do_lower_case), then split so
     that every punctuation character (ASCII non-alphanumerics and P*) stands
     alone.
  5. WordPiece: longest vocabulary prefix first, later pieces prefixed "##";
     a word of more than 100 characters, or one that cannot be covered,
     becomes [UNK].
  6. [CLS] a [SEP] (b [SEP]), token_type_ids 0 then 1, truncated longest_first.

Usage: bert_tokenizer_ref.py MODEL_DIR GLUE_DIR OUT.jsonl
checks itself against MODEL_DIR/cases.jsonl, then writes the ids of SST-2 dev
and MRPC dev (all lines) to OUT.jsonl.
"""

import json
import os
import sys
import unicodedata

from common import check_fixture, glue_inputs, truncate_longest_first, write_expected

SPECIALS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]
MAX_LENGTH = 64
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(ch):
    return any(lo <= ord(ch) <= hi for lo, hi in CJK_RANGES)


def is_punct(ch):
    o = ord(ch)
    ascii_punct = 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126
    return ascii_punct or unicodedata.category(ch).startswith("P")


def split_specials(text):
    """[(is_special, piece)], the leftmost (then longest) special first."""
    out, start, i = [], 0, 0
    while i < len(text):
        found = max((s for s in SPECIALS if text.startswith(s, i)), key=len, default=None)
        if found:
            if start < i:
                out.append((False, text[start:i]))
            out.append((True, found))
            i = start = i + len(found)
        else:
            i += 1
    if start < len(text):
        out.append((False, text[start:]))
    return out


class Bert:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
            tokens = f.read().split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab = {tok: i for i, tok in enumerate(tokens)}
        config = {}
        path = os.path.join(model_dir, "tokenizer_config.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        self.lower = config.get("do_lower_case", True)
        self.strip = config.get("strip_accents")
        self.chinese = config.get("tokenize_chinese_chars", True)
        self.unk = self.vocab["[UNK]"]

    def words(self, text):
        cleaned = []
        for ch in text:
            cat = unicodedata.category(ch)
            if ch in "\x00\ufffd" or (cat.startswith("C") and ch not in "\t\n\r"):
                continue
            if ch in " \t\n\r" or cat == "Zs":
                cleaned.append(" ")
            elif self.chinese and is_cjk(ch):
                cleaned.append(" " + ch + " ")
            else:
                cleaned.append(ch)
        for word in "".join(cleaned).split():
            if word in SPECIALS:
                yield word
                continue
            if self.lower:
                word = word.lower()
            if self.strip or (self.strip is None and self.lower):
                word = "".join(c for c in unicodedata.normalize("NFD", word)
                               if unicodedata.category(c) != "Mn")
            piece = ""
            for ch in word:
                if is_punct(ch):
                    if piece:
                        yield piece
                    piece = ""
                    yield ch
                else:
                    piece += ch
            if piece:
                yield piece

    def wordpiece(self, word):
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = ("##" if start else "") + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unk]
        return ids

    def tokenize(self, text):
        ids = []
        for special, piece in split_specials(text):
            if special:
                ids.append(self.vocab[piece])
                continue
            if self.lower:  # character by character, as transformers does
                piece = "".join(ch.lower() for ch in piece)
            for word in self.words(piece):
                ids += self.wordpiece(word)
        return ids

    def encode(self, text, pair=None, max_length=MAX_LENGTH):
        cls, sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        a = self.tokenize(text)
        b = self.tokenize(pair) if pair is not None else None
        a, b = truncate_longest_first(a, b, max_length - (2 if b is None else 3))
        ids = [cls] + a + [sep]
        types = [0] * len(ids)
        if b is not None:
            ids += b + [sep]
            types += [1] * (len(b) + 1)
        return ids, types


def main(model_dir, glue_dir, out):
    bert = Bert(model_dir)
    n = check_fixture(bert.encode, os.path.join(model_dir, "cases.jsonl"))
    print(f"reference reproduces the {n} encodings of {model_dir}/cases.jsonl")
    inputs = glue_inputs(glue_dir, None, None)
    write_expected(out, bert.encode, inputs, with_types=True)
    print(f"wrote {len(inputs)} expectations to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
