#!/usr/bin/python3
"""Writes what the training framework computes with the committed demo
models, for tests/test_demo_models.c to compare elang against:

  tests/data/glue_demo_expected.jsonl
      for models/TASK-swift and models/TASK-super of every GLUE task of
      train_glue_bert.py (sst2, cola, mrpc, rte), the first GLUE_LINES
      examples of ../shared/data/glue/DIR/dev.tsv:
      {"model", "line" (1-based; line 1 is the header where there is one),
       "input_ids", "token_type_ids", "label_id", "logits"}
  tests/data/glue_t5_demo_expected.jsonl
      for models/glue-t5-swift and models/glue-t5-super (the text-to-text
      pair of train_glue_t5.py), the first GLUE_T5_LINES examples of every
      task's dev.tsv with the task's prefix (and " sentence2: " before a
      pair): {"model", "task", "line", "input_ids", "label_id", "logits"
      (the first decoding step's logits of the task's two label words)};
      and for the encoder head of models/glue-t5-swift {"model", "task",
      "line", "head_score"}: the energy score (T = 1) of the head's
      predicted logits of the task's two label words.
  tests/data/multi30k_demo_expected.jsonl
      for models/multi30k-swift and models/multi30k-super, the first
      MULTI30K_LINES sentences of ../shared/data/multi30k/test_2016_flickr.en
      behind the prefix "translate English to German: ":
      {"model", "line" (1-based), "input_ids", "greedy_ids"} with greedy
      decoding of at most MAX_NEW_TOKENS new tokens; and for the encoder
      head of models/multi30k-swift (elang_head.*, tools/train/train_head.py)
      {"model", "line", "head_score"} on the same sentences.
  tests/data/sst2_lm_demo_expected.jsonl
      for models/sst2-lm-swift and models/sst2-lm-super (Llama), the first
      SST2_LM_LINES sentences of dev.tsv as prompts "Review: ... Sentiment:":
      {"model", "line", "input_ids", "label_id", "logits" (of the label
      words' first tokens after the prompt)} and, for the first
      LM_GREEDY_LINES, "greedy_ids" (LM_NEW_TOKENS new tokens).

The sentences themselves are not copied; the test reads them again from
../shared/data. Everything is computed here from the files in models/ alone:
the weights read back from model.safetensors (F16) and widened to F32, the
tokenizers from vocab.txt + tokenizer_config.json, spiece.model and
tokenizer.model, the PyTorch models of bert.py, t5.py and llama.py (which
tools/train/check_fixtures.py shows reproduce transformers on its own
fixtures), one input at a time, in
F32. Predictions whose top two scores are closer than MIN_MARGIN would be
at the mercy of rounding: a GLUE example with one is left out, a Multi30k
sentence with one stops the script.

Usage (from the repository root):
  /usr/bin/python3 tools/train/expectations.py [--only glue|t5|multi30k|lm]
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import json  # noqa: E402
import os  # noqa: E402

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

import sys  # noqa: E402

from bert import BertForSequenceClassification  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402
from t5 import T5ForConditionalGeneration  # noqa: E402
from t5 import EOS  # noqa: E402
from train_glue_bert import MAX_LENGTH, TASKS, read_task  # noqa: E402
from train_glue_t5 import LABEL_WORDS, input_text  # noqa: E402
from train_multi30k import MAX_NEW_TOKENS, PREFIX, encode as spm_encode  # noqa: E402
from train_sst2_lm import BOS, PROMPT, label_ids  # noqa: E402
from trainutil import load_model, read_safetensors  # noqa: E402
from wordpiece import load_tokenizer  # noqa: E402

GLUE_LINES = 100
GLUE_T5_LINES = 50
SST2_LM_LINES = 200
MULTI30K_LINES = 20
MIN_MARGIN = 1e-3
LM_GREEDY_LINES = 20
LM_NEW_TOKENS = 4


def check_margin(margin, what):
    if margin < MIN_MARGIN:
        raise SystemExit(f"{what}: the two best scores are only {margin:g} apart; pick other inputs")


@torch.no_grad()
def glue_rows(task, size, data_dir):
    name = f"{task}-{size}"
    model_dir = os.path.join("models", name)
    model, tokenizer = load_model(BertForSequenceClassification, model_dir), load_tokenizer(model_dir)
    rows = []
    for number, text, pair, _ in read_task(os.path.join(data_dir, "glue", TASKS[task]["dir"], "dev.tsv"),
                                           task)[:GLUE_LINES]:
        ids, types = tokenizer.encode(text, pair, MAX_LENGTH)
        logits = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), torch.tensor([types]))[0]
        top = logits.topk(2).values
        if top[0] - top[1] < MIN_MARGIN:
            continue  # rounding could decide the label: such an example is not compared
        rows.append({"model": name, "line": number, "input_ids": ids, "token_type_ids": types,
                     "label_id": int(logits.argmax()), "logits": [round(x, 6) for x in logits.tolist()]})
    return rows


def head_outputs(head, pooled):
    """An encoder head's outputs y = out(relu(dense(pooled))), from its
    tensors as elang_head.safetensors holds them."""
    hidden = torch.relu(head["dense.weight"] @ pooled + head["dense.bias"])
    return head["out.weight"] @ hidden + head["out.bias"]


@torch.no_grad()
def glue_t5_rows(name, data_dir):
    """The text-to-text pair's first-step label-word logits, and for Swift
    its encoder head's score, on every task's first dev examples."""
    model_dir = os.path.join("models", name)
    model = load_model(T5ForConditionalGeneration, model_dir)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "spiece.model"))
    head_file = os.path.join(model_dir, "elang_head.safetensors")
    head = read_safetensors(head_file) if os.path.exists(head_file) else None
    all_words = [w for words in LABEL_WORDS.values() for w in words]
    rows = []
    for task in TASKS:
        word_ids = [sp.piece_to_id("\u2581" + w) for w in LABEL_WORDS[task]]
        dev = read_task(os.path.join(data_dir, "glue", TASKS[task]["dir"], "dev.tsv"), task)[:GLUE_T5_LINES]
        for number, text, pair, _ in dev:
            ids = sp.encode(input_text(task, text, pair)) + [EOS]
            src, mask = torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long)
            states = model.encode(src, mask)
            picked = model.first_step_logits(states, mask)[0, word_ids]
            if abs((picked[0] - picked[1]).item()) < MIN_MARGIN:
                continue  # rounding could decide the label: not compared
            rows.append({"model": name, "task": task, "line": number, "input_ids": ids,
                         "label_id": int(picked.argmax()), "logits": [round(x, 6) for x in picked.tolist()]})
            if head is not None:
                mine = head_outputs(head, states[0].mean(0))[[all_words.index(w) for w in LABEL_WORDS[task]]]
                rows.append({"model": name, "task": task, "line": number,
                             "head_score": round(torch.logsumexp(mine, 0).item(), 6)})
    return rows


def multi30k_rows(name, data_dir):
    model_dir = os.path.join("models", name)
    model = load_model(T5ForConditionalGeneration, model_dir)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "spiece.model"))
    with open(os.path.join(data_dir, "multi30k/test_2016_flickr.en"), encoding="utf-8") as f:
        lines = f.read().split("\n")[:MULTI30K_LINES]
    rows = []
    for number, line in enumerate(lines, start=1):
        ids = spm_encode(sp, [PREFIX + line])[0]
        out, margins = model.greedy(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), MAX_NEW_TOKENS)
        check_margin(min(margins[0]), f"{name} test_2016_flickr.en line {number}")
        rows.append({"model": name, "line": number, "input_ids": ids, "greedy_ids": out[0]})
    return rows


@torch.no_grad()
def head_rows(name, data_dir):
    """The encoder head's score of models/NAME (elang_head.*) on the first
    MULTI30K_LINES test sentences: y = out(relu(dense(mean-pooled encoder
    states))), in F32."""
    model_dir = os.path.join("models", name)
    model = load_model(T5ForConditionalGeneration, model_dir)
    head = read_safetensors(os.path.join(model_dir, "elang_head.safetensors"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "spiece.model"))
    with open(os.path.join(data_dir, "multi30k/test_2016_flickr.en"), encoding="utf-8") as f:
        lines = f.read().split("\n")[:MULTI30K_LINES]
    rows = []
    for number, line in enumerate(lines, start=1):
        ids = spm_encode(sp, [PREFIX + line])[0]
        pooled = model.encode(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0].mean(0)
        score = head_outputs(head, pooled)[0]
        rows.append({"model": name, "line": number, "head_score": round(score.item(), 6)})
    return rows


@torch.no_grad()
def sst2_lm_rows(name, data_dir):
    model_dir = os.path.join("models", name)
    model = load_model(LlamaForCausalLM, model_dir)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "tokenizer.model"))
    words = label_ids(sp)
    rows = []
    dev = read_task(os.path.join(data_dir, "glue/SST-2/dev.tsv"), "sst2")
    for k, (number, sentence, _, _) in enumerate(dev[:SST2_LM_LINES]):
        ids = [BOS] + sp.encode(PROMPT[0] + sentence + PROMPT[1])
        t = torch.tensor([ids])
        logits = model(t, torch.ones_like(t))[0, -1]
        picked = logits[words]
        check_margin(abs((picked[0] - picked[1]).item()), f"{name} dev line {number}")
        row = {"model": name, "line": number, "input_ids": ids, "label_id": int(picked.argmax()),
               "logits": [round(x, 6) for x in picked.tolist()]}
        if k < LM_GREEDY_LINES:
            top = logits.topk(2).values
            check_margin((top[0] - top[1]).item(), f"{name} dev line {number} first token")
            row["greedy_ids"] = model.greedy(t, torch.ones_like(t), LM_NEW_TOKENS)[0]
        rows.append(row)
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, separators=(", ", ": ")) + "\n")
    print(f"wrote {len(rows)} rows to {path}")


def main():
    torch.set_num_threads(1)
    data_dir = os.environ.get("ELANG_SHARED", "../shared") + "/data"
    only = sys.argv[2] if sys.argv[1:2] == ["--only"] and len(sys.argv) == 3 else None
    if sys.argv[1:] and only not in ("glue", "t5", "multi30k", "lm"):
        raise SystemExit(__doc__)
    if only in (None, "lm"):
        write_jsonl("tests/data/sst2_lm_demo_expected.jsonl",
                    sst2_lm_rows("sst2-lm-swift", data_dir) + sst2_lm_rows("sst2-lm-super", data_dir))
    if only in (None, "glue"):
        write_jsonl("tests/data/glue_demo_expected.jsonl",
                    [row for task in TASKS for size in ("swift", "super") for row in glue_rows(task, size, data_dir)])
    if only in (None, "t5"):
        write_jsonl("tests/data/glue_t5_demo_expected.jsonl",
                    glue_t5_rows("glue-t5-swift", data_dir) + glue_t5_rows("glue-t5-super", data_dir))
    if only in (None, "multi30k"):
        write_jsonl("tests/data/multi30k_demo_expected.jsonl",
                    multi30k_rows("multi30k-swift", data_dir) + multi30k_rows("multi30k-super", data_dir)
                    + head_rows("multi30k-swift", data_dir))


if __name__ == "__main__":
    main()
