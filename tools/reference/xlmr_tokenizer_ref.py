#!/usr/bin/python3
"""A reference of what transformers 4.25's Python XLMRobertaTokenizer
produces, written from the rules it follows, not from transformers' code.
SentencePiece itself comes from Debian's python3-sentencepiece (0.1.97, the
library elang links); what this checks is the layer around it:

  1. Special tokens written in the text are cut out (leftmost, longest
     first). The constructor wraps only <mask>, in AddedToken(lstrip=True):
     it eats the whitespace before it, not after. <s> </s> <unk> <pad> stay
     plain strings, which eat the whitespace on both sides.
  2. Each chunk between them goes to SentencePiece's encode(out_type=str),
     which gives every chunk its own dummy "▁" prefix.
  3. Pieces to ids, the fairseq alignment: <s> 0, <pad> 1, </s> 2, <unk> 3,
     <mask> len(sp_model) + 1; any other token piece_to_id + 1
     (fairseq_offset), except that piece_to_id 0 (SentencePiece's <unk>,
     what it answers for a string that is no piece) gives unk_token_id, 3.
     vocab_size is len(sp_model) + 2.
  4. <s> a </s>, or <s> a </s></s> b </s> for a pair; truncation
     longest_first to max_length counting those 2 or 4.
  5. decode(ids, skip_special_tokens): ids to tokens (the fairseq names
     first, else id_to_piece(id - 1)), the special ones (0, 1, 2, 3, <mask>)
     dropped when asked; convert_tokens_to_string joins them all, specials
     included, turns every "▁" into a space and strips; then
     clean_up_tokenization's replacements.

transformers cannot be installed here, so before writing anything this
checks itself against cases worked out by hand from those rules and the
model's piece list (HAND_CASES below, with the reasoning), then writes:

  OUT_DIR/glue_xlmr_expected.jsonl     the first 200 SST-2 dev sentences and
                                       100 MRPC dev pairs, max_length 64
  OUT_DIR/multi30k_xlmr_expected.jsonl the first 150 lines of Multi30k val.en
                                       and val.de, each asserted to decode
                                       back to its normalized text
  OUT_DIR/tricky_xlmr_expected.jsonl   TRICKY strings and DECODE_ONLY ids,
                                       with the decoded text both ways

Usage: xlmr_tokenizer_ref.py MODEL_DIR DATA_DIR OUT_DIR
(MODEL_DIR holds sentencepiece.bpe.model, DATA_DIR is shared/data). Run it
with Debian's /usr/bin/python3.
"""

import json
import os
import sys

import sentencepiece

from common import glue_inputs, split_specials, truncate_longest_first, write_expected
from spm_tokenizer_ref import NO_LIMIT, clean_up, round_trip_text

GLUE_SST2, GLUE_MRPC, GLUE_MAX_LENGTH = 200, 100, 64
MULTI30K_LINES = 150


class XLMRoberta:
    def __init__(self, model_dir):
        self.spm = sentencepiece.SentencePieceProcessor(
            model_file=os.path.join(model_dir, "sentencepiece.bpe.model"))
        n = self.spm.get_piece_size()
        self.fairseq = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": n + 1}
        self.names = {i: t for t, i in self.fairseq.items()}
        self.vocab_size = n + 2
        self.strip = {"<mask>": (True, False)}  # the others: plain strings
        self.special_ids = set(self.fairseq.values())

    def token_id(self, token):
        if token in self.fairseq:
            return self.fairseq[token]
        piece = self.spm.piece_to_id(token)
        return piece + 1 if piece != 0 else self.fairseq["<unk>"]

    def id_token(self, i):
        return self.names[i] if i in self.names else self.spm.id_to_piece(i - 1)

    def tokenize(self, text):
        ids = []
        for chunk, special in split_specials(text, self.fairseq, self.strip):
            pieces = [chunk] if special else self.spm.encode(chunk, out_type=str)
            ids += [self.token_id(p) for p in pieces]
        return ids

    def encode(self, text, pair=None, max_length=NO_LIMIT):
        cls, sep = self.fairseq["<s>"], self.fairseq["</s>"]
        a = self.tokenize(text)
        b = self.tokenize(pair) if pair is not None else None
        a, b = truncate_longest_first(a, b, max_length - (2 if b is None else 4))
        return [cls] + a + [sep] + ([sep] + b + [sep] if b is not None else [])

    def decode(self, ids, skip_special):
        tokens = [self.id_token(i) for i in ids if not (skip_special and i in self.special_ids)]
        return clean_up("".join(tokens).replace("\u2581", " ").strip())


# Worked out by hand from the rules above and the pieces of
# tests/data/xlmr/sentencepiece.bpe.model (1000 of them; their SentencePiece
# ids, from its piece list, are in the comments). tests/test_tokenizer.c
# checks elang against the same numbers.
HAND_CASES = [  # (text, pair, max_length, ids)
    # ▁H e ll o ▁W or ld ! are pieces 166 875 110 883 136 37 57 916; each
    # moves up by one, between <s> = 0 and </s> = 2.
    ("Hello World!", None, NO_LIMIT, [0, 167, 876, 111, 884, 137, 38, 58, 917, 2]),
    # <mask> (1000 pieces + 1 = 1001) eats the space before it only:
    # "The cat" is ▁The ▁cat (75 686), " on the mat." ▁on ▁the ▁m at .
    # (74 11 30 208 888).
    ("The cat <mask> on the mat.", None, NO_LIMIT,
     [0, 76, 687, 1001, 75, 12, 31, 209, 889, 2]),
    # <unk> written in the text is 3 and, a plain string, strips both
    # sides; ", such as" is tokenized on its own, so it starts with a lone
    # ▁ (874) before , (898): the "residue" transformers' own
    # test_tokenization_base_hard_symbols shows for xlm-roberta-base. Then
    # ▁s uch ▁a s (10 322 4 881); "to" is ▁to (137).
    ("to <unk>, such as", None, NO_LIMIT, [0, 138, 3, 875, 899, 11, 323, 5, 882, 2]),
    # U+0085 is whitespace to str.strip but not to SentencePiece, which
    # keeps it as a piece it does not know (0, so unk 3). </s> strips it on
    # both sides, <mask> only before itself: a (▁a 4), </s>, b (▁b 14),
    # <mask>, then "\x85c" as ▁ \x85 c (874 0 886).
    ("a\x85</s>\x85b\x85<mask>\x85c", None, NO_LIMIT, [0, 5, 2, 15, 1001, 875, 3, 887, 2]),
    # The emoji is no piece: ▁a ▁ 😀 ▁b (4 874 0 14).
    ("a \U0001f600 b", None, NO_LIMIT, [0, 5, 875, 3, 15, 2]),
    # A pair in 8: 8 - 4 framing tokens leave 4; "Hello World!" (8 tokens)
    # loses one at a time while longer than "a b" (▁a ▁b), down to 2.
    ("Hello World!", "a b", 8, [0, 167, 876, 2, 2, 5, 15, 2]),
]
HAND_DECODED = [  # (ids, skip_special_tokens, text)
    ([0, 167, 876, 111, 884, 137, 38, 58, 917, 2], True, "Hello World!"),
    # Joined as "<s>▁Hello▁World!</s>": the special tokens are glued on.
    ([0, 167, 876, 111, 884, 137, 38, 58, 917, 2], False, "<s> Hello World!</s>"),
    # <mask>, piece 999 (€, the last), piece 3 (in), <pad>, <unk>.
    ([1001, 1000, 4, 1, 3], False, "<mask>€in<pad><unk>"),
    ([1001, 1000, 4, 1, 3], True, "€in"),
]

TRICKY = [  # (text, pair, max_length)
    ("Hello <mask> world", None, NO_LIMIT),
    ("Hello<mask>world", None, NO_LIMIT),
    ("  <mask>  leading mask", None, NO_LIMIT),
    ("<mask><mask> <mask>", None, NO_LIMIT),
    ("Hello <MASK> and <mask > are text", None, NO_LIMIT),
    ("<s>Hello</s> <pad> world </s> x<unk>y", None, NO_LIMIT),
    ("to <unk>, such as saoneuhaoesuth", None, NO_LIMIT),
    ("a\x85</s>\x85b\x85<mask>\x85c", None, NO_LIMIT),
    ("a\x85<s>\x85b\x85<pad>\x85c\x85<unk>", None, NO_LIMIT),
    ("</s></s>", None, NO_LIMIT),
    ("emoji \U0001f600 and CJK \u4e2d\u6587 and \u00a0nbsp", None, NO_LIMIT),
    ("\ufb01ne \uff21\uff22\uff23 \u2163 caf\u0065\u0301", None, NO_LIMIT),
    ("a \u2581 b\u2581c", None, NO_LIMIT),
    ("don't it's we're I'm they've", None, NO_LIMIT),
    ("Two dogs , one cat . Really ?", None, NO_LIMIT),
    ("line one\nline two\r\nline three", None, NO_LIMIT),
    ("  leading and trailing  spaces  ", None, NO_LIMIT),
    ("", None, NO_LIMIT),
    ("   \t\n  ", None, NO_LIMIT),
    ("Ein Mädchen läuft über die Straße.", None, NO_LIMIT),
    ("a b c d e f g", None, 5),
    ("one two three four five six", "seven eight", 10),
    ("one two", "three four five six seven eight", 9),
    ("a b c", "d e f", 8),
    ("x", "y", 4),
    ("", "", NO_LIMIT),
    ("The cat <mask> on the mat.", "A <mask> sat on a mat.", 12),
]
# Ids no text encodes to: SentencePiece's <unk> <s> </s> (ids 1-3 once
# shifted, which the fairseq names shadow), the last piece, specials in odd
# places.
DECODE_ONLY = [
    [0, 1, 2, 3, 1001, 1000, 4, 5, 6],
    [5, 1001, 6, 3, 3, 2, 0, 875, 875, 889],
    [1, 1, 1, 0, 2],
]


def check_hand_cases(tok):
    assert tok.vocab_size == 1002, tok.vocab_size
    for text, pair, max_length, want in HAND_CASES:
        got = tok.encode(text, pair, max_length)
        assert got == want, (text, pair, got, want)
    for ids, skip, want in HAND_DECODED:
        got = tok.decode(ids, skip)
        assert got == want, (ids, skip, got, want)
    return len(HAND_CASES) + len(HAND_DECODED)


def write_jsonl(path, rows, ensure_ascii):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=ensure_ascii, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} rows to {path}")


def main(model_dir, data_dir, out_dir):
    tok = XLMRoberta(model_dir)
    print(f"reference reproduces the {check_hand_cases(tok)} hand-worked cases")

    inputs = glue_inputs(os.path.join(data_dir, "glue"), GLUE_SST2, GLUE_MRPC)
    path = os.path.join(out_dir, "glue_xlmr_expected.jsonl")
    write_expected(path, lambda a, b: (tok.encode(a, b, GLUE_MAX_LENGTH), None), inputs,
                   with_types=False)
    print(f"wrote {len(inputs)} expectations to {path}")

    rows = []
    for file in ["val.en", "val.de"]:
        with open(os.path.join(data_dir, "multi30k", file), encoding="utf-8") as f:
            lines = f.read().split("\n")[:MULTI30K_LINES]
        for number, text in enumerate(lines, start=1):
            ids = tok.encode(text)
            assert tok.decode(ids, True) == round_trip_text(text), (file, number)
            rows.append({"model": "xlm-roberta", "file": file, "line": number, "input_ids": ids})
    write_jsonl(os.path.join(out_dir, "multi30k_xlmr_expected.jsonl"), rows, False)

    rows = []
    for text, pair, max_length in TRICKY:
        ids = tok.encode(text, pair, max_length)
        rows.append({"model": "xlm-roberta", "text": text, "text_pair": pair,
                     "max_length": None if max_length == NO_LIMIT else max_length,
                     "input_ids": ids, "decoded": tok.decode(ids, True),
                     "decoded_with_specials": tok.decode(ids, False)})
    for ids in DECODE_ONLY:
        rows.append({"model": "xlm-roberta", "ids": ids, "decoded": tok.decode(ids, True),
                     "decoded_with_specials": tok.decode(ids, False)})
    write_jsonl(os.path.join(out_dir, "tricky_xlmr_expected.jsonl"), rows, True)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
