#!/usr/bin/python3
"""Checks that the training framework's models (bert.py, t5.py, llama.py)
compute what transformers computed on the repository's fixtures
(../shared/fixtures/hf/{bert,bert-f16,t5,llama}/cases.jsonl, made by
transformers itself, 4.25 and 4.48): the same checkpoint files loaded by
name, the BERT logits (one at a time and in the padded batch) within
TOLERANCE, the T5 encoder's first state, the teacher-forced first-step
logits within TOLERANCE, and the greedy ids exactly, one at a time and in
one padded batch; Llama's last prompt logits (one at a time and in the
left-padded batch) within TOLERANCE and its greedy ids exactly. The
tokenizer of wordpiece.py must also give the fixture's BERT ids.

Usage (from the repository root): /usr/bin/python3 tools/train/check_fixtures.py
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import json  # noqa: E402
import os  # noqa: E402

import torch  # noqa: E402

from bert import BertForSequenceClassification  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402
from t5 import T5ForConditionalGeneration  # noqa: E402
from trainutil import load_model, pad  # noqa: E402
from wordpiece import load_tokenizer  # noqa: E402

TOLERANCE = 1e-4


def cases(fixture):
    with open(os.path.join(fixture, "cases.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def assert_close(got, want, what):
    diff = (torch.as_tensor(got) - torch.tensor(want)).abs().max().item()
    assert diff <= TOLERANCE, f"{what}: differs by {diff:g}"
    return diff


@torch.no_grad()
def check_bert(fixture):
    model, tokenizer = load_model(BertForSequenceClassification, fixture), load_tokenizer(fixture)
    worst, checked = 0.0, 0
    for i, case in enumerate(cases(fixture)):
        if "batch" in case:
            ids, mask = torch.tensor(case["input_ids"]), torch.tensor(case["attention_mask"])
            worst = max(worst, assert_close(model(ids, mask), case["logits"], f"{fixture} batch"))
        else:
            ids, types = tokenizer.encode(case["text"], case.get("text_pair"), 64)
            assert ids == case["input_ids"], f"{fixture} case {i}: ids {ids}"
            logits = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), torch.tensor([types]))[0]
            worst = max(worst, assert_close(logits, case["logits"], f"{fixture} case {i}"))
        checked += 1
    print(f"{fixture}: {checked} sentences, sentence pairs and batches, largest logit difference {worst:.2g}")


@torch.no_grad()
def check_t5(fixture):
    model = load_model(T5ForConditionalGeneration, fixture)
    all_cases = cases(fixture)
    max_new = max(len(c["greedy_ids"]) for c in all_cases) - 1  # the fixture's max_new_tokens
    worst = 0.0
    for i, case in enumerate(all_cases):
        ids = torch.tensor([case["input_ids"]])
        mask = torch.ones_like(ids)
        encoded = model.encode(ids, mask)
        worst = max(worst, assert_close(encoded[0, 0], case["encoder_first_token"], f"{fixture} case {i} encoder"))
        greedy = torch.tensor([case["greedy_ids"]])
        states = model.decoder(model.shared(greedy), torch.ones_like(greedy), encoded, mask)
        first = model.lm_head(states)[0, 0, :len(case["teacher_forced_first_logits"])]
        worst = max(worst, assert_close(first, case["teacher_forced_first_logits"], f"{fixture} case {i} logits"))
        rows, _ = model.greedy(ids, mask, max_new)
        assert rows[0] == case["greedy_ids"], f"{fixture} case {i}: greedy {rows[0]}"
    ids, mask = pad([c["input_ids"] for c in all_cases], 0)
    rows, _ = model.greedy(ids, mask, max_new)
    for i, (row, case) in enumerate(zip(rows, all_cases)):
        assert row == case["greedy_ids"], f"{fixture} case {i}: batched greedy {row}"
    print(f"{fixture}: {len(all_cases)} cases, greedy ids equal, largest difference {worst:.2g}")


@torch.no_grad()
def check_llama(fixture):
    model = load_model(LlamaForCausalLM, fixture)
    worst, checked = 0.0, 0
    for i, case in enumerate(cases(fixture)):
        if "batch" in case:
            ids, mask = torch.tensor(case["input_ids"]), torch.tensor(case["attention_mask"])
            last = model(ids, mask)[:, -1]
            worst = max(worst, assert_close(last, case["last_logits"], f"{fixture} batch"))
            continue
        ids = torch.tensor([case["input_ids"]])
        mask = torch.ones_like(ids)
        worst = max(worst, assert_close(model(ids, mask)[0, -1], case["last_logits"], f"{fixture} case {i}"))
        rows = model.greedy(ids, mask, len(case["greedy_ids"]))
        assert rows[0] == case["greedy_ids"], f"{fixture} case {i}: greedy {rows[0]}"
        checked += 1
    print(f"{fixture}: {checked} cases and the padded batch, greedy ids equal, largest logit difference {worst:.2g}")


def main():
    torch.set_num_threads(1)
    root = os.path.join(os.environ.get("ELANG_SHARED", "../shared"), "fixtures/hf")
    check_bert(os.path.join(root, "bert"))
    check_bert(os.path.join(root, "bert-f16"))
    check_t5(os.path.join(root, "t5"))
    check_llama(os.path.join(root, "llama"))
    print("the training framework reproduces transformers on the fixtures")


if __name__ == "__main__":
    main()
