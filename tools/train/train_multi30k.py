#!/usr/bin/python3
"""Trains one of the Multi30k English→German demo translators (Swift or
Super) from scratch and writes it as a Hugging Face T5ForConditionalGeneration
(v1.0) directory that elang loads: config.json, model.safetensors (F16, the
tied embedding stored once as shared.weight), spiece.model, and a model card
README.md.

Data (../shared/data/multi30k): train.{en,de} (29,000 pairs) for training;
val.{en,de} (1,014) to choose the epoch by greedy BLEU; test_2016_flickr
(1,000) is only reported. Sources carry T5's task prefix, PREFIX.

Tokenizer: a SentencePiece unigram model of SPM_PIECES pieces trained on the
training sources (with their prefix) and the training targets, with T5's
conventions (<pad>=0, </s>=1, <unk>=2, no <s>, NFKC normalisation);
transformers' T5Tokenizer appends 100 <extra_id_N> sentinels, so the model's
vocabulary is SPM_PIECES + 100. Encoding is T5Tokenizer's: the pieces'
ids, then </s>. Both sizes train the same tokenizer (the trainer is
deterministic with one thread and is given the sentences directly, so no file
name ends up in the model).

Training: teacher-forced cross-entropy with label smoothing; AdamW with
relative learning rates (trainutil.relative_groups: each parameter's rate is
the base rate times its RMS at initialisation, like Adafactor's relative
steps, for which T5's initialisation is made); a linear warm-up, then linear
decay to 0 at the last epoch; dropout; batches of sentences of similar
length. The forward pass runs under bfloat16 autocast (matrix products in
bfloat16 through oneDNN, several times faster on this CPU than Debian's
OpenBLAS in F32); weights, gradients and optimizer state stay F32, and every
evaluation runs in F32. After every epoch: greedy BLEU on val (bleu.py); the
best epoch's weights are kept (the earliest on a tie), rounded to F16, and
the card's metrics are computed with the rounded weights.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_multi30k.py --size swift
  /usr/bin/python3 tools/train/train_multi30k.py --size super
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from bleu import corpus_bleu  # noqa: E402
from t5 import EOS, T5ForConditionalGeneration, t5_config  # noqa: E402
from trainutil import (add_training_arguments, count_parameters, fit, length_batches, linear_warmup_decay,  # noqa: E402
                       pad, read_generated, read_safetensors, relative_groups, reproduce_lines, start_training, today, write_json,
                       write_lines, write_safetensors)

PREFIX = "translate English to German: "
SPM_PIECES = 8000
EXTRA_IDS = 100
MAX_NEW_TOKENS = 64
WARMUP = 0.04

SIZES = {
    # d_model, d_ff, heads, d_kv, encoder and decoder layers, epochs, relative learning rate
    "swift": dict(d_model=128, d_ff=512, heads=4, d_kv=32, layers=2, epochs=12, lr=2e-2),
    "super": dict(d_model=256, d_ff=1024, heads=4, d_kv=64, layers=4, epochs=14, lr=2e-2),
}


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\n").split("\n")


def train_sentencepiece(path, sentences, pieces=SPM_PIECES, symbols=()):
    """Trains the unigram model of `pieces` pieces on the sentences and
    writes it to path; `symbols` become pieces of their own, never split."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=pieces, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1, minloglevel=2,
        user_defined_symbols=list(symbols))
    with open(path, "wb") as f:
        f.write(model.getvalue())


def encode(sp, texts):
    """T5Tokenizer's ids: the pieces' ids, then </s>."""
    return [ids + [EOS] for ids in sp.encode(texts)]


def translate(model, sp, sources, batch_size=64):
    """Greedy translations (text) of the source id lists, in their order."""
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    out = [None] * len(sources)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = pad([sources[i] for i in idx], 0)
        rows, _ = model.greedy(ids, mask, MAX_NEW_TOKENS)
        for i, row in zip(idx, rows):
            out[i] = sp.decode([t for t in row if 2 < t < SPM_PIECES])
    return out


@torch.no_grad()
def mean_loss(model, pairs, batch_size=64):
    """Teacher-forced cross-entropy per target token (no label smoothing),
    in F32."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start:start + batch_size]
        ids, mask = pad([s for s, _ in batch], 0)
        labels, _ = pad([t for _, t in batch], -100)
        target = labels >= 0
        logits = model.lm_head(model.teacher_forced(ids, mask, labels)[target])
        total += torch.nn.functional.cross_entropy(logits, labels[target], reduction="sum").item()
        count += int(target.sum())
    return total / count


def train(model, sp, pairs, val_pairs, val_ref, args, log):
    """Trains for args.epochs epochs; returns (best state dict, its epoch, val
    BLEU of every epoch)."""
    rng = random.Random(args.seed)
    total = (len(pairs) + args.batch_size - 1) // args.batch_size * args.epochs
    optimizer = torch.optim.AdamW(relative_groups(model, args.lr, args.weight_decay), betas=(0.9, 0.98), eps=1e-8)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    lengths = [(len(source), len(target)) for source, target in pairs]

    def batch_loss(batch):
        ids, mask = pad([pairs[i][0] for i in batch], 0)
        labels, _ = pad([pairs[i][1] for i in batch], -100)
        target = labels >= 0
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model.lm_head(model.teacher_forced(ids, mask, labels)[target])
        return loss_fn(logits.float(), labels[target])

    def evaluate():
        bleu = corpus_bleu(translate(model, sp, [s for s, _ in val_pairs]), val_ref)
        return bleu, f"val loss {mean_loss(model, val_pairs):.4f}, val BLEU {bleu:.2f}"

    return fit(model, optimizer, schedule, args.epochs, lambda: length_batches(lengths, args.batch_size, rng),
               batch_loss, evaluate, log, 100)


def write_card(path, name, config, args, n_params, best_epoch, history, metrics, minutes):
    other = "multi30k-super" if args.size == "swift" else "multi30k-swift"
    lines = [
        f"# {name}",
        "",
        f"The {args.size.capitalize()} model of elang's translation demo pair (the other is `{other}`): "
        "an English→German T5 (v1.0 architecture) trained from scratch by the elang project, with no "
        "pre-training, on Multi30k (image captions). It is a demo of E-LANG routing, not a general "
        "translator: outside short descriptions of photos it fails.",
        "",
        "| | |",
        "|---|---|",
        "| architecture | T5ForConditionalGeneration v1.0: RMS norm, ReLU feed-forward, relative position "
        "buckets (32, max distance 128), tied embeddings, output scaled by d_model^-0.5 |",
        f"| sizes | {config['num_layers']} encoder + {config['num_decoder_layers']} decoder layers, d_model "
        f"{config['d_model']}, d_ff {config['d_ff']}, {config['num_heads']} heads of {config['d_kv']} |",
        f"| parameters | {n_params:,} |",
        f"| tokenizer | `spiece.model`: SentencePiece unigram, {SPM_PIECES} pieces, trained on the training "
        f"sources (with the prefix) and targets; + {EXTRA_IDS} `<extra_id_N>`, vocab_size "
        f"{config['vocab_size']} |",
        "| input | `translate English to German: ` + the English sentence (elang adds `</s>`) |",
        "| weights | `model.safetensors`, F16 |",
        "| data | `../shared/data/multi30k/train.{en,de}`, 29,000 pairs; epoch chosen on `val` |",
        f"| training | {args.epochs} epochs max, batch {args.batch_size}, AdamW, relative lr {args.lr:g} × each "
        f"parameter's initial RMS (β2 0.98, warm-up "
        f"{WARMUP:.0%}, linear decay), weight decay {args.weight_decay:g}, dropout {config['dropout_rate']:g}, "
        f"label smoothing {args.label_smoothing:g}, gradient clipping 1.0, bfloat16 autocast, seed {args.seed} |",
        f"| epoch kept | {best_epoch} (best greedy BLEU on val; per epoch: "
        + ", ".join(f"{b:.2f}" for b in history) + ") |",
        f"| training time | {minutes:.0f} minutes (wall clock, one thread, on a shared 2-core machine) |",
        f"| date | {today()} |",
        "",
        f"Greedy decoding (at most {MAX_NEW_TOKENS} new tokens), computed by the training script (PyTorch, "
        "with the F16 weights as stored); BLEU by `tools/train/bleu.py` (corpus BLEU, 13a tokenization), "
        "detokenized output against the raw references:",
        "",
        "| split | sentences | BLEU |",
        "|---|---|---|",
        f"| val | {metrics['val_n']:,} | {metrics['val']:.2f} |",
        f"| test_2016_flickr (never used for any choice) | {metrics['test_n']:,} | {metrics['test']:.2f} |",
        "",
    ] + reproduce_lines()
    write_lines(path, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_arguments(parser, SIZES, "../shared/data/multi30k", 64)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--targets", help="German training targets instead of train.de, one JSON line with \"text\" "
                        "per training source (e.g. Super's translations from `elang generate`: sequence-level "
                        "distillation); val and test keep their references")
    args = parser.parse_args()
    size, out, log = start_training(args, SIZES, "multi30k")

    data = {split: (read_lines(os.path.join(args.data, f"{split}.en")), read_lines(os.path.join(args.data, f"{split}.de")))
            for split in ("train", "val", "test_2016_flickr")}
    train_en, train_de = data["train"]
    if args.targets:
        train_de = read_generated(args.targets, len(train_en), "targets")
    train_sentencepiece(os.path.join(out, "spiece.model"), [PREFIX + s for s in train_en] + train_de)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out, "spiece.model"))
    pairs = list(zip(encode(sp, [PREFIX + s for s in train_en]), encode(sp, train_de)))
    sources = {split: encode(sp, [PREFIX + s for s in en]) for split, (en, _) in data.items()}
    log(f"tokenizer trained; {len(pairs)} pairs, mean source {sum(len(s) for s, _ in pairs) / len(pairs):.1f} "
        f"and target {sum(len(t) for _, t in pairs) / len(pairs):.1f} tokens")

    config = t5_config(SPM_PIECES + EXTRA_IDS, size["d_model"], size["d_ff"], size["d_kv"], size["heads"],
                       size["layers"], size["layers"], args.dropout)
    model = T5ForConditionalGeneration(config)
    val_pairs = list(zip(sources["val"], encode(sp, data["val"][1])))
    best, best_epoch, history = train(model, sp, pairs, val_pairs, data["val"][1], args, log)

    weights = os.path.join(out, "model.safetensors")
    write_safetensors(weights, best, "F16")
    write_json(os.path.join(out, "config.json"), config)
    model.load_state_dict(read_safetensors(weights))
    metrics = {}
    for split, key in (("val", "val"), ("test_2016_flickr", "test")):
        metrics[key] = corpus_bleu(translate(model, sp, sources[split]), data[split][1])
        metrics[key + "_n"] = len(sources[split])
    log(f"kept epoch {best_epoch}; F16 weights: {json.dumps(metrics)}")
    write_card(os.path.join(out, "README.md"), f"multi30k-{args.size}", config, args, count_parameters(best),
               best_epoch, history, metrics, log.minutes())
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
