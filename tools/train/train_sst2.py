#!/usr/bin/python3
"""Trains one of the SST-2 demo classifiers (Swift or Super) from scratch
and writes it as a Hugging Face BertForSequenceClassification directory that
elang loads: config.json, model.safetensors (F16), vocab.txt,
tokenizer_config.json, and a model card README.md.

Data (GLUE SST-2, ../shared/data/glue/SST-2):
  train.tsv holds 67,349 labelled phrases: every constituent of the parse
  trees of the SST training sentences, the whole sentences among them. A
  phrase that is no part of a longer phrase is a whole sentence ("root").
  The calibration split, on which E-LANG's threshold is calibrated and on
  which the epoch is chosen, is CALIBRATION_SIZE roots drawn with
  random.Random(SPLIT_SEED).sample from the roots in sorted order: whole
  sentences, like dev.tsv. Training uses every other line of train.tsv except
  those whose phrase occurs inside a calibration sentence (its own
  constituents, and the same short phrases where they recur), so no part of
  a calibration sentence is seen in training with its label. The
  calibration sentences' train.tsv line numbers (line 1 is the header) go to
  models/sst2-calibration-lines.txt. dev.tsv is only reported, never used to
  choose anything.

Vocabulary: VOCAB_SIZE lowercased WordPiece tokens learned from the
training phrases (wordpiece.py).

Pre-training: the encoder first learns as a masked language model (BERT's
masking, a prediction head tied to the word embeddings and dropped
afterwards) on the whole sentences of the training split: the only
unlabelled text used, so the model knows nothing outside SST-2's training
split. With so little labelled data this is worth one to four points of
accuracy on the calibration split.

Training: cross-entropy, AdamW (weight decay on matrices), learning rate
warmed up linearly over the first WARMUP of the steps then decayed linearly
to 0 at the last epoch (both stages), dropout, batches of phrases of similar
length. After every epoch the model is scored on the calibration split; the
weights of the best epoch are kept (the earliest on a tie). They are rounded
to F16, and the metrics in the model card are computed with those rounded
weights.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_sst2.py --size swift
  /usr/bin/python3 tools/train/train_sst2.py --size super
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from bert import BertForSequenceClassification, MaskedLMHead, bert_config  # noqa: E402
from trainutil import (add_training_arguments, count_parameters, decay_groups, fit, length_batches,  # noqa: E402
                       linear_warmup_decay, pad, read_safetensors, reproduce_lines, start_training, today,
                       write_json, write_lines, write_safetensors)
from wordpiece import SPECIALS, build_vocab, load_tokenizer, write_vocab  # noqa: E402

CALIBRATION_SIZE = 1000
SPLIT_SEED = 20220522
VOCAB_SIZE = 8000
MAX_LENGTH = 128
LABELS = ["negative", "positive"]
WARMUP = 0.06
MLM_PROBABILITY = 0.15
CLS, SEP, MASK = (SPECIALS.index(t) for t in ("[CLS]", "[SEP]", "[MASK]"))

SIZES = {
    # hidden, layers, heads, intermediate; masked-LM epochs and learning rate;
    # classification epochs and learning rate
    "swift": dict(hidden=128, layers=2, heads=2, intermediate=512, mlm_epochs=20, mlm_lr=1e-3, epochs=4, lr=5e-4),
    "super": dict(hidden=256, layers=4, heads=4, intermediate=1024, mlm_epochs=20, mlm_lr=5e-4, epochs=4, lr=2e-4),
}


def read_tsv(path):
    """[(line number, sentence, label)] after the header (line 1)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    return [(n, fields[0], int(fields[1]))
            for n, fields in ((n, line.split("\t")) for n, line in enumerate(lines, start=1))
            if n > 1 and len(fields) == 2]


def normalize(text):
    """A phrase with single spaces and a space at both ends, so that
    `normalize(a) in normalize(b)` means "a is a run of whole words of b"."""
    return " " + " ".join(text.split()) + " "


def split_train(rows):
    """(calibration rows, training rows, training sentences) of train.tsv, as
    the module docstring describes; the training sentences are the whole
    sentences among the training rows, each once."""
    longest_first = sorted({normalize(s) for _, s, _ in rows}, key=lambda s: (-len(s), s))
    roots, seen = [], ""
    for phrase in longest_first:
        if phrase not in seen:
            roots.append(phrase)
            seen += phrase + "\n"
    chosen = set(random.Random(SPLIT_SEED).sample(sorted(roots), CALIBRATION_SIZE))
    calibration, taken = [], set()
    for row in rows:
        phrase = normalize(row[1])
        if phrase in chosen and phrase not in taken:
            calibration.append(row)
            taken.add(phrase)
    inside = "\n".join(sorted(chosen))
    train = [row for row in rows if normalize(row[1]) not in inside]
    root_set, sentences = set(roots), {}
    for _, s, _ in train:
        if normalize(s) in root_set:
            sentences.setdefault(normalize(s), s)
    return calibration, train, list(sentences.values())


def encode(tokenizer, rows):
    """[(ids, label)] of the rows."""
    return [(tokenizer.encode(s, None, MAX_LENGTH)[0], label) for _, s, label in rows]


@torch.no_grad()
def predict(model, encoded, batch_size=128):
    """Logits [N, labels] of the encoded inputs, in their order (eval mode)."""
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    logits = torch.zeros(len(encoded), len(LABELS))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = pad([encoded[i][0] for i in idx])
        logits[idx] = model(ids, mask)
    return logits


def accuracy(logits, encoded):
    labels = torch.tensor([label for _, label in encoded])
    return (logits.argmax(-1) == labels).float().mean().item()


def mask_tokens(ids, mask, vocab_size):
    """BERT's masking: each token other than [CLS], [SEP] and padding is
    chosen with probability MLM_PROBABILITY; a chosen token becomes [MASK]
    (80%), a random token (10%) or stays (10%). Returns the inputs and the
    boolean positions chosen."""
    special = (ids == CLS) | (ids == SEP) | (mask == 0)
    chosen = (torch.rand(ids.shape) < MLM_PROBABILITY) & ~special
    r = torch.rand(ids.shape)
    inputs = torch.where(chosen & (r < 0.8), torch.full_like(ids, MASK), ids)
    random_ids = torch.randint(len(SPECIALS), vocab_size, ids.shape)
    inputs = torch.where(chosen & (r >= 0.8) & (r < 0.9), random_ids, inputs)
    return inputs, chosen


def pretrain(model, config, sentences, args, log):
    """Masked-language-model pre-training of model.bert on the training
    sentences (id lists), with a MaskedLMHead tied to the word embeddings,
    for args.mlm_epochs epochs, masks drawn afresh every epoch."""
    head = MaskedLMHead(config, model.bert.embeddings.word_embeddings)
    both = torch.nn.ModuleDict({"model": model, "head": head})
    rng = random.Random(args.seed)
    batch_size = args.batch_size
    steps_per_epoch = (len(sentences) + batch_size - 1) // batch_size
    total = steps_per_epoch * args.mlm_epochs
    optimizer = torch.optim.AdamW(decay_groups(both, args.weight_decay), lr=args.mlm_lr, betas=(0.9, 0.999), eps=1e-6)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(ids) for ids in sentences]
    both.train()
    for epoch in range(1, args.mlm_epochs + 1):
        loss_sum, hits, count = 0.0, 0, 0
        for batch in length_batches(lengths, batch_size, rng):
            ids, mask = pad([sentences[i] for i in batch])
            inputs, chosen = mask_tokens(ids, mask, config["vocab_size"])
            logits = head(model.bert(inputs, mask)[chosen])
            loss = F.cross_entropy(logits, ids[chosen])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(both.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            loss_sum += loss.item()
            hits += int((logits.argmax(-1) == ids[chosen]).sum())
            count += int(chosen.sum())
        log(f"pre-training epoch {epoch}: masked-LM loss {loss_sum / steps_per_epoch:.4f}, "
            f"accuracy {hits / count:.4f}")


def train(model, train_data, calibration, args, log):
    """Trains for args.epochs epochs; returns (best state dict, its epoch,
    calibration accuracy of every epoch)."""
    rng = random.Random(args.seed)
    total = (len(train_data) + args.batch_size - 1) // args.batch_size * args.epochs
    optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), eps=1e-6)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(ids) for ids, _ in train_data]

    def batch_loss(batch):
        ids, mask = pad([train_data[i][0] for i in batch])
        labels = torch.tensor([train_data[i][1] for i in batch])
        return F.cross_entropy(model(ids, mask), labels)

    def evaluate():
        acc = accuracy(predict(model, calibration), calibration)
        return acc, f"calibration accuracy {acc:.4f}"

    return fit(model, optimizer, schedule, args.epochs, lambda: length_batches(lengths, args.batch_size, rng),
               batch_loss, evaluate, log, 200)


def write_card(path, name, config, args, n_params, split_sizes, best_epoch, history, metrics, minutes):
    other = "sst2-super" if args.size == "swift" else "sst2-swift"
    pretraining = (f"| pre-training | masked language model (BERT's 15% masking, 80/10/10) on the "
                   f"{split_sizes[2]:,} whole sentences of the training split, {args.mlm_epochs} epochs, "
                   f"AdamW lr {args.mlm_lr:g}, then the classifier trained as below |" if args.mlm_epochs
                   else "| pre-training | none |")
    lines = [
        f"# {name}",
        "",
        f"The {args.size.capitalize()} model of elang's SST-2 demo pair (the other is `{other}`): a "
        "BERT-style sentence classifier (negative / positive) trained from scratch by the elang "
        "project on GLUE SST-2 alone, with no outside text or pre-trained weights. It is a demo of "
        "E-LANG routing, not a competitive sentiment model.",
        "",
        "| | |",
        "|---|---|",
        "| architecture | BertForSequenceClassification, post-layer-norm, GELU (erf), [CLS] + tanh pooler |",
        f"| sizes | {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
        f"{config['num_attention_heads']} heads, intermediate {config['intermediate_size']}, "
        f"{config['max_position_embeddings']} positions |",
        f"| parameters | {n_params:,} |",
        f"| vocabulary | {config['vocab_size']} lowercased WordPiece tokens learned from the training split "
        "(`tools/train/wordpiece.py`) |",
        "| weights | `model.safetensors`, F16 |",
        f"| data | `../shared/data/glue/SST-2/train.tsv` minus the calibration split: {split_sizes[1]:,} phrases |",
        f"| calibration split | {split_sizes[0]:,} whole training sentences (seed {SPLIT_SEED}); their "
        "train.tsv line numbers are in `models/sst2-calibration-lines.txt`; every phrase occurring inside "
        "one of them is left out of training |",
        pretraining,
        f"| training | {args.epochs} epochs max, batch {args.batch_size}, AdamW lr {args.lr:g} "
        f"(warm-up {WARMUP:.0%}, linear decay), weight decay {args.weight_decay:g}, dropout "
        f"{config['hidden_dropout_prob']:g}, gradient clipping 1.0, seed {args.seed} |",
        f"| epoch kept | {best_epoch} (best calibration accuracy; per epoch: "
        + ", ".join(f"{a:.4f}" for a in history) + ") |",
        f"| training time | {minutes:.0f} minutes (wall clock, one thread, on a shared 2-core machine) |",
        f"| date | {today()} |",
        "",
        "Accuracy computed by the training script (PyTorch, with the F16 weights as stored):",
        "",
        "| split | sentences | accuracy |",
        "|---|---|---|",
        f"| calibration | {metrics['calibration_n']:,} | {metrics['calibration']:.4f} |",
        f"| dev (`glue/SST-2/dev.tsv`, never used for any choice) | {metrics['dev_n']} | {metrics['dev']:.4f} |",
        "",
    ] + reproduce_lines() + [
        "All the model knows of English is the training split of SST-2 (movie-review phrases); expect "
        "it to be fooled by sarcasm, negation at a distance and words it never saw.",
        "",
    ]
    write_lines(path, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_arguments(parser, SIZES, "../shared/data/glue/SST-2", 32)
    parser.add_argument("--mlm-epochs", type=int, help="default: the size's")
    parser.add_argument("--mlm-lr", type=float, help="default: the size's")
    args = parser.parse_args()
    size, out, log = start_training(args, SIZES, "sst2")
    args.mlm_epochs = size["mlm_epochs"] if args.mlm_epochs is None else args.mlm_epochs
    args.mlm_lr = args.mlm_lr or size["mlm_lr"]

    rows = read_tsv(os.path.join(args.data, "train.tsv"))
    dev_rows = read_tsv(os.path.join(args.data, "dev.tsv"))
    calibration_rows, train_rows, sentences = split_train(rows)
    with open(os.path.join(os.path.dirname(os.path.abspath(out)), "sst2-calibration-lines.txt"), "w") as f:
        f.write("".join(f"{n}\n" for n, _, _ in calibration_rows))
    log(f"{len(train_rows)} training phrases ({len(sentences)} whole sentences), "
        f"{len(calibration_rows)} calibration sentences, {len(dev_rows)} dev")

    write_vocab(out, build_vocab([s for _, s, _ in train_rows], VOCAB_SIZE))
    tokenizer = load_tokenizer(out)
    train_data, calibration, dev = (encode(tokenizer, r) for r in (train_rows, calibration_rows, dev_rows))
    log(f"vocabulary of {len(tokenizer.vocab)} tokens; data encoded")

    config = bert_config(len(tokenizer.vocab), size["hidden"], size["layers"], size["heads"], size["intermediate"],
                         LABELS, MAX_LENGTH, args.dropout)
    model = BertForSequenceClassification(config)
    if args.mlm_epochs:
        pretrain(model, config, [tokenizer.encode(s, None, MAX_LENGTH)[0] for s in sentences], args, log)
    best, best_epoch, history = train(model, train_data, calibration, args, log)

    weights = os.path.join(out, "model.safetensors")
    write_safetensors(weights, best, "F16")
    write_json(os.path.join(out, "config.json"), config)
    model.load_state_dict(read_safetensors(weights))
    metrics = {"calibration": accuracy(predict(model, calibration), calibration), "calibration_n": len(calibration),
               "dev": accuracy(predict(model, dev), dev), "dev_n": len(dev)}
    log(f"kept epoch {best_epoch}; F16 weights: {json.dumps(metrics)}")
    write_card(os.path.join(out, "README.md"), f"sst2-{args.size}", config, args, count_parameters(best),
               (len(calibration), len(train_data), len(sentences)), best_epoch, history, metrics, log.minutes())
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
