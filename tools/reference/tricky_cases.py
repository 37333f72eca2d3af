#!/usr/bin/env python3
"""Writes OUT.jsonl: hand-written edge-case strings with the ids both
references give for them (WordPiece on the bert fixture, byte-level BPE on
the roberta fixture). Usage: tricky_cases.py FIXTURES_HF_DIR OUT.jsonl"""

import json
import os
import sys

from bert_tokenizer_ref import Bert
from bpe_tokenizer_ref import ByteBPE

CASES = [
    ("hello [MASK] world [SEP] [mask]", None),
    ("[CLS][SEP]x[PAD]", None),
    ("a <mask> b <s>c</s>  <unk>", None),
    ("info\x1cseparators\x1d\x1e\x1fhere", None),
    ("line\u2028separator\u2029paragraph\x85next", None),
    ("ideographic\u3000space and thin\u2009space\u200a", None),
    ("I'S 'll've 're'd 'm ''s '", None),
    ("   \n\n  word  \t ", None),
    ("\u0130stanbul \u0131 \u03a3\u039f\u03a6\u039f\u03a3 \ufb01ne \u2163", None),
    ("e\u0301te\u0301 \u00e9t\u00e9 \uac00\ud55c \u0915\u094d\u0937", None),
    ("private\ue000use \U0010fffd unassigned\u0378", None),
    ("x" * 101 + " " + "y" * 100, None),
    ("\U0001f600\U0001f44d\U0001f3fd\u200d\U0001f4bb", None),
    ("word " * 40, "tie " * 40),
    ("short", "a b c d e f g h i j k l m n o p q r s t u v w x y z " * 3),
    ("", ""),
    ("   ", "x"),
]


def main(hf_dir, out):
    models = [("bert", Bert(os.path.join(hf_dir, "bert"))),
              ("roberta", ByteBPE(os.path.join(hf_dir, "roberta")))]
    with open(out, "w", encoding="utf-8") as f:
        for name, model in models:
            for text, pair in CASES:
                ids, types = model.encode(text, pair)
                row = {"model": name, "text": text, "text_pair": pair, "input_ids": ids,
                       "token_type_ids": types}
                f.write(json.dumps(row, ensure_ascii=True) + "\n")
    print(f"wrote {2 * len(CASES)} cases to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
