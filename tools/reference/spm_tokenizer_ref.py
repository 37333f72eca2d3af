#!/usr/bin/python3
"""A reference of what transformers 4.25's Python T5Tokenizer and
MarianTokenizer produce, written from the rules they follow, not from
transformers' code. SentencePiece itself comes from Debian's
python3-sentencepiece (0.1.97, the library elang links), so what this checks
is the layer around it that elang writes:

  1. Special tokens written literally in the text are cut out (leftmost,
     longest first) and, being plain strings, eat the whitespace on both
     sides. T5's are </s> <unk> <pad> and the sentinels <extra_id_0..99>;
     Marian's </s> <unk> <pad>.
  2. Each chunk between them goes to SentencePiece's encode(out_type=str).
     Marian first takes a language code ">>xx<<" (the regex >>.+<<) off the
     start of the chunk as a token of its own, and drops such codes anywhere.
  3. Pieces to ids. T5: <extra_id_N> is vocab_size - 1 - N (vocab_size =
     pieces + 100), anything else piece_to_id (the unknown piece's id for
     no piece). Marian: vocab.json, <unk> for a piece it lacks.
  4. T5: a </s> (b </s>), no </s> added after a segment that already ends
     with one; Marian: a b </s>. Truncation longest_first to max_length
     counting those.
  5. decode(ids, skip_special_tokens): ids to tokens (T5: IdToPiece or the
     sentinel's name; Marian: vocab.json reversed, <unk> for an unknown id),
     the special ones dropped when asked; convert_tokens_to_string hands the
     runs between special tokens to SentencePiece's decode_pieces (Marian:
     target.spm) and puts the special tokens in as they are, T5 with a space
     before unless one precedes, Marian with a space after; strip; then
     clean_up_tokenization's replacements (" ." -> "." and so on).

Usage: spm_tokenizer_ref.py FIXTURES_HF_DIR MULTI30K_DIR OUT_DIR
checks itself against the cases.jsonl of t5, t5-v1_1 and marian, then
writes OUT_DIR/multi30k_spm_expected.jsonl and OUT_DIR/tricky_spm_expected.jsonl
(see README.md). Run it with Debian's /usr/bin/python3.
"""

import json
import os
import re
import sys
import unicodedata

import sentencepiece

from common import split_specials, truncate_longest_first

MULTI30K_LINES = 300
NO_LIMIT = 10**6
CLEAN_UP = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]


def clean_up(text):
    for old, new in CLEAN_UP:
        text = text.replace(old, new)
    return text


class SentencePieceTokenizer:
    """What T5 and Marian share; subclasses say how pieces become ids."""

    def tokenize(self, text):
        ids = []
        for chunk, special in split_specials(text, self.specials):
            ids += [self.token_id(t) for t in ([chunk] if special else self.pieces(chunk))]
        return ids

    def encode(self, text, pair=None, max_length=NO_LIMIT):
        a = self.tokenize(text)
        b = self.tokenize(pair) if pair is not None else None
        a, b = truncate_longest_first(a, b, max_length - self.n_special(b is not None))
        return self.frame(a, b)

    def decode(self, ids, skip_special):
        tokens = [self.id_token(i) for i in ids if not (skip_special and i in self.special_ids)]
        return clean_up(self.detokenize(tokens)) if tokens else ""

    def detokenize(self, tokens):
        out, run, prev_special = "", [], False
        for token in tokens:
            if token not in self.specials:
                run.append(token)
                prev_special = False
                continue
            if self.space_before_special and not prev_special:
                out += " "
            out += self.decoder_spm.decode_pieces(run) + token
            if not self.space_before_special:
                out += " "
            run, prev_special = [], True
        return (out + self.decoder_spm.decode_pieces(run)).strip()


class T5(SentencePieceTokenizer):
    space_before_special = True

    def __init__(self, model_dir, extra_ids=100):
        self.spm = sentencepiece.SentencePieceProcessor(
            model_file=os.path.join(model_dir, "spiece.model"))
        self.decoder_spm = self.spm
        self.vocab_size = self.spm.get_piece_size() + extra_ids
        self.specials = ["</s>", "<unk>", "<pad>"] + [f"<extra_id_{n}>" for n in range(extra_ids)]
        self.special_ids = {self.token_id(s) for s in self.specials}
        self.eos = self.token_id("</s>")

    def pieces(self, chunk):
        return self.spm.encode(chunk, out_type=str)

    def token_id(self, token):
        sentinel = re.match(r"<extra_id_(\d+)>", token)
        if sentinel:
            return self.vocab_size - 1 - int(sentinel.group(1))
        return self.spm.piece_to_id(token)

    def id_token(self, i):
        if i < self.spm.get_piece_size():
            return self.spm.id_to_piece(i)
        return f"<extra_id_{self.vocab_size - 1 - i}>"

    def n_special(self, pair):
        return 2 if pair else 1

    def frame(self, a, b):
        def with_eos(ids):
            return ids if ids and ids[-1] == self.eos else ids + [self.eos]
        return with_eos(a) + (with_eos(b) if b is not None else [])


class Marian(SentencePieceTokenizer):
    space_before_special = False
    language_code = re.compile(">>.+<<")

    def __init__(self, model_dir):
        self.spm = sentencepiece.SentencePieceProcessor(
            model_file=os.path.join(model_dir, "source.spm"))
        self.target_spm = sentencepiece.SentencePieceProcessor(
            model_file=os.path.join(model_dir, "target.spm"))
        self.decoder_spm = self.target_spm
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.tokens = {i: t for t, i in self.vocab.items()}
        self.specials = ["</s>", "<unk>", "<pad>"]
        self.special_ids = {self.vocab[s] for s in self.specials}

    def pieces(self, chunk, spm=None):
        code = self.language_code.match(chunk)
        rest = self.language_code.sub("", chunk)
        return ([code.group(0)] if code else []) + (spm or self.spm).encode(rest, out_type=str)

    def token_id(self, token):
        return self.vocab.get(token, self.vocab["<unk>"])

    def id_token(self, i):
        return self.tokens.get(i, "<unk>")

    def n_special(self, pair):
        return 1

    def frame(self, a, b):
        return a + (b or []) + [self.vocab["</s>"]]

    def labels(self, text):
        """tokenizer(text_target=text): the target side, through target.spm."""
        ids = []
        for chunk, special in split_specials(text, self.specials):
            pieces = [chunk] if special else self.pieces(chunk, self.target_spm)
            ids += [self.token_id(t) for t in pieces]
        return self.frame(ids, None)


def round_trip_text(text):
    """What decode(encode(text), skip_special_tokens=True) gives when every
    character has a piece: SentencePiece's normalization (NFKC, whitespace
    runs to one space, none at the ends), then clean_up_tokenization."""
    return clean_up(" ".join(unicodedata.normalize("NFKC", text).split()))


def check_fixture(tok, cases_path):
    n = 0
    with open(cases_path, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            got = tok.encode(case["src"])
            assert got == case["input_ids"], (case["src"], got, case["input_ids"])
            n += 1
    return n


TRICKY = [  # (text, pair, max_length)
    ("hello <extra_id_0> world </s> <pad>x<unk>", None, NO_LIMIT),
    ("<extra_id_99><extra_id_1><extra_id_10>  <extra_id_100>", None, NO_LIMIT),
    ("ends with eos</s>", None, NO_LIMIT),
    ("ends with eos </s>", "and so does this</s>", NO_LIMIT),
    ("a b c d e</s>", None, 4),
    ("a b c d e</s>", None, 8),
    ("one two three four five six", "seven eight", 6),
    ("one two", "three four five six seven eight", 5),
    ("", "", NO_LIMIT),
    ("   \t\n  ", None, NO_LIMIT),
    ("  leading and trailing  spaces  ", None, NO_LIMIT),
    (">>de<< A man is sleeping.", None, NO_LIMIT),
    (">>fr<< one >>es<< two", None, NO_LIMIT),
    ("no code >>xx<< in the middle", None, NO_LIMIT),
    (">>de<<\n>>fr<< two lines", None, NO_LIMIT),
    (">><< empty code", None, NO_LIMIT),
    ("\ufb01ne \uff21\uff22\uff23 \u2163 caf\u0065\u0301", None, NO_LIMIT),
    ("emoji \U0001f600 and \u20ac and \u00a0nbsp", None, NO_LIMIT),
    ("don't it's we're I'm they've", None, NO_LIMIT),
    ("Two dogs , one cat . Really ?", None, NO_LIMIT),
    ("line one\nline two\r\nline three", None, NO_LIMIT),
    ("</s></s>", None, NO_LIMIT),
]


def tricky_rows(name, tok):
    rows = []
    for text, pair, max_length in TRICKY:
        ids = tok.encode(text, pair, max_length)
        rows.append({"model": name, "text": text, "text_pair": pair,
                     "max_length": None if max_length == NO_LIMIT else max_length,
                     "input_ids": ids, "decoded": tok.decode(ids, True),
                     "decoded_with_specials": tok.decode(ids, False)})
    return rows


def main(hf_dir, multi30k_dir, out_dir):
    t5, marian = T5(os.path.join(hf_dir, "t5")), Marian(os.path.join(hf_dir, "marian"))
    for name, tok in [("t5", t5), ("t5-v1_1", T5(os.path.join(hf_dir, "t5-v1_1"))),
                      ("marian", marian)]:
        n = check_fixture(tok, os.path.join(hf_dir, name, "cases.jsonl"))
        print(f"reference reproduces the {n} encodings of {name}/cases.jsonl")

    rows = []
    for file in ["val.en", "val.de"]:
        with open(os.path.join(multi30k_dir, file), encoding="utf-8") as f:
            lines = f.read().split("\n")[:MULTI30K_LINES]
        for number, text in enumerate(lines, start=1):
            ids = t5.encode(text)
            assert t5.decode(ids, True) == round_trip_text(text), (file, number)
            rows.append({"model": "t5", "file": file, "line": number, "input_ids": ids})
            if file.endswith(".en"):
                rows.append({"model": "marian", "file": file, "line": number,
                             "input_ids": marian.encode(text)})
            else:
                labels = marian.labels(text)
                assert marian.decode(labels, True) == round_trip_text(text), (file, number)
                rows.append({"model": "marian", "file": file, "line": number, "labels": labels})
    path = os.path.join(out_dir, "multi30k_spm_expected.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} expectations to {path}")

    rows = tricky_rows("t5", t5) + tricky_rows("marian", marian)
    # Ids no text encodes to: specials in odd places, the top sentinel,
    # Marian pieces that only the source side knows.
    for name, tok, ids in [
        ("t5", t5, [0, 1034, 49, 2099, 2098, 165, 123, 47, 32, 1, 0, 0]),
        ("t5", t5, [2, 3, 2, 2099, 1, 9, 3, 2]),
        ("marian", marian, [1447, 270, 16, 77, 1432, 0, 1, 5, 1447, 0]),
        ("marian", marian, [2, 6, 13, 19, 1, 19, 0, 21]),
    ]:
        rows.append({"model": name, "ids": ids, "decoded": tok.decode(ids, True),
                     "decoded_with_specials": tok.decode(ids, False)})
    path = os.path.join(out_dir, "tricky_spm_expected.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=True) + "\n")
    print(f"wrote {len(rows)} cases to {path}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
