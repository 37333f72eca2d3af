"""Shared by the references: reading the GLUE TSV files and the fixtures,
cutting special tokens out of the text, the longest_first truncation, and
writing the expectations.

Nothing here imports transformers; see README.md.
"""

import json
import os


def read_tsv(path):
    """Yields (line_number, fields) for every line after the header (line 1)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if number > 1:
            yield number, line.split("\t")


def glue_inputs(glue_dir, sst2_lines, mrpc_lines):
    """(file, line, text, pair) for the first sst2_lines sentences of SST-2 dev
    and the first mrpc_lines pairs of MRPC dev (None: all of them)."""
    out = []
    for i, (number, fields) in enumerate(read_tsv(os.path.join(glue_dir, "SST-2/dev.tsv"))):
        if sst2_lines is not None and i >= sst2_lines:
            break
        out.append(("SST-2/dev.tsv", number, fields[0], None))
    for i, (number, fields) in enumerate(read_tsv(os.path.join(glue_dir, "MRPC/dev.tsv"))):
        if mrpc_lines is not None and i >= mrpc_lines:
            break
        out.append(("MRPC/dev.tsv", number, fields[3], fields[4]))
    return out


def truncate_longest_first(a, b, room):
    """Keeps at most `room` tokens: a lone sequence loses its tail; a pair loses
    one token at a time from the longer side, from the second on a tie."""
    if b is None:
        return a[:room], None
    a, b = list(a), list(b)
    while len(a) + len(b) > room:
        if len(a) > len(b):
            a.pop()
        else:
            b.pop()
    return a, b


def split_specials(text, specials, strip=None):
    """PreTrainedTokenizer.tokenize's cut around the special tokens written in
    the text (the leftmost, longest first): alternating chunks text, special,
    text, ... as (chunk, is_special), empty text chunks dropped. strip maps a
    token to its (lstrip, rstrip): lstrip eats the whitespace at the end of
    the text before it, rstrip at the start of the text after it. A token
    strip does not name is a plain string, which strips both sides."""
    parts, start, i = [], 0, 0
    while i < len(text):
        found = max((s for s in specials if text.startswith(s, i)), key=len, default=None)
        if found is None:
            i += 1
            continue
        parts += [text[start:i], found]
        i = start = i + len(found)
    parts.append(text[start:])
    for k in range(1, len(parts), 2):
        lstrip, rstrip = (strip or {}).get(parts[k], (True, True))
        if lstrip:
            parts[k - 1] = parts[k - 1].rstrip()
        if rstrip:
            parts[k + 1] = parts[k + 1].lstrip()
    return [(p, k % 2 == 1) for k, p in enumerate(parts) if p]


def check_fixture(encode, cases_path):
    """Compares encode(text, pair) -> (ids, type_ids or None) with every case of
    a fixture's cases.jsonl (batch rows without their padding). Returns the
    number of encodings checked; raises AssertionError on a mismatch."""
    checked = 0
    with open(cases_path, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            if "batch" in case:
                for text, ids, mask in zip(case["batch"], case["input_ids"], case["attention_mask"]):
                    got, _ = encode(text, None)
                    want = [i for i, m in zip(ids, mask) if m]
                    assert got == want, (text, got, want)
                    checked += 1
                continue
            got, types = encode(case["text"], case.get("text_pair"))
            assert got == case["input_ids"], (case["text"], got, case["input_ids"])
            if "token_type_ids" in case:
                assert types == case["token_type_ids"], (case["text"], types)
            checked += 1
    return checked


def write_expected(path, encode, inputs, with_types):
    """One JSON line per input: file, line and the ids, never the text;
    token_type_ids (with_types) only for pairs, being all 0 otherwise."""
    with open(path, "w", encoding="utf-8") as f:
        for file, number, text, pair in inputs:
            ids, types = encode(text, pair)
            row = {"file": file, "line": number, "input_ids": ids}
            if with_types and pair is not None:
                row["token_type_ids"] = types
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
