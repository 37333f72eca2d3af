#!/usr/bin/python3
"""Trains the encoder head h of an encoder-decoder Swift after the fact, on
Swift's own outputs over its training data, with Swift's weights untouched,
and writes it into Swift's directory as elang loads it
(src/models/encoder_head.h): elang_head.json and elang_head.safetensors
(F32), and a section of the model card.

The head: pooled = the mean of Swift's encoder output states over the
input's tokens (padding excluded); y = out(relu(dense(pooled))).

For the text-to-text GLUE Swift (`--task glue`) it predicts the first
decoding step's logits of all four tasks' label words ("predicts":
"label-word-logits"; elang routes a task by the energy of that task's
words among them), trained on every task's training inputs with their
prefixes (train_glue_t5.py's; the calibration splits are left out, as they
are for Swift).

For translation (Multi30k, `--task translation`) it predicts one routing score
of Swift's greedy output ("predicts": "score"), higher meaning "keep
Swift's answer", chosen by --target:

  energy  Swift's sequence energy score: the mean over its generated tokens
          of log Σ exp(logits) of the step (-E at T = 1), what
          `--score energy` routes by after decoding;
  chrf    Swift's sentence chrF2 against the reference: how good its
          translation is, which is what routing should know;
  gain    Swift's sentence chrF2 less Super's (--super-outputs: Super's
          greedy translations of the same training sources, one JSON line
          with "text" each, as `elang generate` writes them): what sending
          the input to Super would lose or win, which is what routing
          decides.

Data: Multi30k's training pairs, every one with its source behind the
prefix Swift was trained with. HOLDOUT of them (a seeded random sample) are
held out to choose the epoch (lowest mean squared error); val and test are
not used. Targets are standardized for training; the standardization is
folded back into out.weight and out.bias, so the head outputs the target's
own units. Adam, full-batch epochs of shuffled minibatches, seeded.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_head.py --swift models/multi30k-swift --task translation --target chrf
  /usr/bin/python3 tools/train/train_head.py --swift models/glue-t5-swift --task glue
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from t5 import EOS, T5ForConditionalGeneration  # noqa: E402
from train_glue_bert import load_data  # noqa: E402
from train_glue_t5 import LABEL_WORDS, input_text  # noqa: E402
from train_multi30k import MAX_NEW_TOKENS, PREFIX, SPM_PIECES, encode, read_lines  # noqa: E402
from trainutil import (Log, command_line, load_model, pad, read_generated, set_determinism, today,  # noqa: E402
                       write_json, write_safetensors)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from bleu_ref import chrf_f, chrf_stats  # noqa: E402

HOLDOUT = 0.1
CARD_MARKER = "## Encoder head"


def mean_pooled(states, mask):
    """[B, D] mean of the encoder states [B, S, D] over each input's tokens
    (mask 1), as elang pools them for the head."""
    return (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)


@torch.no_grad()
def swift_outputs(model, sp, sources, batch_size=64):
    """For each source id list: Swift's mean-pooled encoder output [N, D],
    its greedy translation (text) and its sequence energy score (the mean of
    its steps' log Σ exp(logits))."""
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    pooled = torch.zeros(len(sources), model.config["d_model"])
    texts, energy = [None] * len(sources), [0.0] * len(sources)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = pad([sources[i] for i in idx], 0)
        states = model.encode(ids, mask)
        pooled[idx] = mean_pooled(states, mask)
        steps = []
        rows, _ = model.greedy(ids, mask, MAX_NEW_TOKENS, energy_scores=steps)
        for i, row, e in zip(idx, rows, steps):
            texts[i] = sp.decode([t for t in row if 2 < t < SPM_PIECES])
            energy[i] = sum(e) / len(e)
    return pooled, texts, torch.tensor(energy)


@torch.no_grad()
def glue_outputs(model, sources, word_ids, batch_size=128):
    """For each source id list: Swift's mean-pooled encoder output [N, D] and
    its first decoding step's logits of the word ids [N, K]."""
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    pooled = torch.zeros(len(sources), model.config["d_model"])
    logits = torch.zeros(len(sources), len(word_ids))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = pad([sources[i] for i in idx], 0)
        states = model.encode(ids, mask)
        pooled[idx] = mean_pooled(states, mask)
        logits[idx] = model.first_step_logits(states, mask)[:, word_ids]
    return pooled, logits


class Head(torch.nn.Module):
    def __init__(self, d_model, hidden, outputs):
        super().__init__()
        self.dense = torch.nn.Linear(d_model, hidden)
        self.out = torch.nn.Linear(hidden, outputs)

    def forward(self, pooled):
        return self.out(torch.relu(self.dense(pooled)))


def fit_head(pooled, target, args, log):
    """Trains the head on (pooled, target [N, K]) minus the held-out share;
    returns its state dict (the epoch of least held-out error, each output's
    standardization folded in) and that error."""
    rng = random.Random(args.seed)
    n = len(target)
    held = set(rng.sample(range(n), int(HOLDOUT * n)))
    train_idx = [i for i in range(n) if i not in held]
    held_idx = sorted(held)
    mean, std = target[train_idx].mean(0), target[train_idx].std(0)
    z = (target - mean) / std
    head = Head(pooled.shape[1], args.hidden, target.shape[1])
    optimizer = torch.optim.Adam(head.parameters(), lr=args.lr)
    best, best_error, best_epoch = None, float("inf"), 0
    for epoch in range(1, args.epochs + 1):
        head.train()
        rng.shuffle(train_idx)
        for start in range(0, len(train_idx), args.batch_size):
            batch = train_idx[start:start + args.batch_size]
            loss = torch.nn.functional.mse_loss(head(pooled[batch]), z[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        head.eval()
        with torch.no_grad():
            error = torch.nn.functional.mse_loss(head(pooled[held_idx]), z[held_idx]).item()
        if error < best_error:
            best, best_error, best_epoch = {k: v.clone() for k, v in head.state_dict().items()}, error, epoch
        log(f"head epoch {epoch}: held-out mean squared error {error:.4f} (of the standardized target)")
    best["out.weight"] = best["out.weight"] * std[:, None]
    best["out.bias"] = best["out.bias"] * std + mean
    return best, best_error, best_epoch


def write_card_section(model_dir, lines):
    """Replaces the model card's encoder-head section (the end of the card)."""
    path = os.path.join(model_dir, "README.md")
    with open(path, encoding="utf-8") as f:
        card = f.read()
    card = card.split("\n" + CARD_MARKER)[0].rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(card)


def translation_target(args, model, sp, log):
    """(pooled, target [N, 1], head description fields, what it predicts, data
    described) for the Multi30k Swift."""
    english, german = (read_lines(os.path.join(args.data, f"train.{lang}")) for lang in ("en", "de"))
    pooled, texts, energy = swift_outputs(model, sp, encode(sp, [PREFIX + s for s in english]))
    log(f"Swift's outputs on {len(texts)} training sources")
    if args.target == "energy":
        target = energy
    else:
        target = torch.tensor([chrf_f(chrf_stats(t, [r])) for t, r in zip(texts, german)], dtype=torch.float32)
    if args.target == "gain":
        super_texts = read_generated(args.super_outputs, len(texts), "translations")
        target -= torch.tensor([chrf_f(chrf_stats(t, [r])) for t, r in zip(super_texts, german)])
    log(f"target {args.target}: mean {target.mean():.3f}, std {target.std():.3f}")
    what = {"energy": "Swift's sequence energy score (mean over its greedy output's tokens of log sum exp of the "
                      "step's logits)",
            "chrf": "Swift's sentence chrF2 of its greedy output against the reference",
            "gain": "Swift's sentence chrF2 less Super's (greedy outputs, against the reference)"}[args.target]
    data = f"Swift's greedy outputs on the {len(texts):,} Multi30k training pairs"
    return pooled, target.float()[:, None], {"predicts": "score"}, what, data


def glue_target(args, model, sp, log):
    """The same for the text-to-text GLUE Swift: its first step's logits of
    every task's label words."""
    words = [w for task_words in LABEL_WORDS.values() for w in task_words]
    word_ids = [sp.piece_to_id("\u2581" + w) for w in words]
    splits, _ = load_data(args.data, os.path.dirname(os.path.abspath(args.swift)))
    sources = [sp.encode(input_text(task, text, pair)) + [EOS]
               for task, (_, rows, _) in splits.items() for _, text, pair, _ in rows]
    pooled, logits = glue_outputs(model, sources, word_ids)
    log(f"Swift's first-step label-word logits on {len(sources)} training inputs")
    what = "Swift's first decoding step's logits of the label words " + ", ".join(words)
    data = (f"Swift's first steps on the {len(sources):,} training inputs of SST-2, CoLA, MRPC and RTE (calibration "
            "splits left out)")
    return pooled, logits, {"predicts": "label-word-logits", "label_words": words}, what, data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swift", required=True, help="Swift's model directory (the head is written into it)")
    parser.add_argument("--task", choices=["translation", "glue"], required=True)
    parser.add_argument("--target", choices=["energy", "chrf", "gain"], help="translation: what the head predicts")
    parser.add_argument("--super-outputs", help="--target gain: Super's translations of the training sources (JSONL)")
    parser.add_argument("--data", help="default ../shared/data/multi30k (translation), ../shared/data (glue)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.task == "translation" and not args.target:
        parser.error("--task translation needs --target energy|chrf|gain")
    if (args.target == "gain") != bool(args.super_outputs):
        parser.error("--target gain and --super-outputs go together")
    args.data = args.data or ("../shared/data/multi30k" if args.task == "translation" else "../shared/data")
    log = Log()
    set_determinism(args.seed)

    model = load_model(T5ForConditionalGeneration, args.swift)
    for p in model.parameters():
        p.requires_grad_(False)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.swift, "spiece.model"))
    target_of = translation_target if args.task == "translation" else glue_target
    pooled, target, fields, what, data = target_of(args, model, sp, log)
    state, error, epoch = fit_head(pooled, target, args, log)

    write_safetensors(os.path.join(args.swift, "elang_head.safetensors"), state, "F32")
    description = (f"predicts {what} from the mean-pooled encoder states; trained on {data} ({HOLDOUT:.0%} held "
                   "out to choose the epoch)")
    write_json(os.path.join(args.swift, "elang_head.json"),
               {"elang_head": 1, "pooling": "mean", "hidden_size": args.hidden, "activation": "relu", **fields,
                "description": description})
    command = command_line()
    write_card_section(args.swift, [
        CARD_MARKER,
        "",
        "`elang_head.json` + `elang_head.safetensors`: E-LANG's encoder head h for `--score encoder-head`, "
        "trained after the fact by `tools/train/train_head.py`; Swift's own weights are untouched.",
        "",
        "| | |",
        "|---|---|",
        f"| what it predicts | {what} |",
        f"| network | mean-pooled encoder output ({model.config['d_model']}) → dense {args.hidden} → ReLU → "
        f"{target.shape[1]} |",
        f"| data | {data}; {HOLDOUT:.0%} held out |",
        f"| training | Adam lr {args.lr:g}, batch {args.batch_size}, {args.epochs} epochs max, seed {args.seed} |",
        f"| epoch kept | {epoch} (held-out mean squared error {error:.4f} of the standardized target) |",
        f"| training time | {log.minutes():.0f} minutes (wall clock, one thread, shared 2-core machine) |",
        f"| date | {today()} |",
        "",
        "```sh",
        command,
        "```",
    ])
    log(f"wrote {args.swift}/elang_head.json and elang_head.safetensors")


if __name__ == "__main__":
    main()
