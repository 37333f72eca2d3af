#!/usr/bin/python3
"""Trains the BERT-style Swift or Super classifiers of elang's GLUE demo
(SST-2, CoLA, MRPC, RTE) from scratch: one vocabulary, one masked-LM
pre-training of the size's encoder on all the unlabelled text available,
then a fine-tuning per task from that encoder. Each task's model is written
as a Hugging Face BertForSequenceClassification directory that elang loads:
models/TASK-SIZE/ with config.json, model.safetensors (F16), vocab.txt,
tokenizer_config.json and a model card README.md.

Data (../shared/data):
  Every task's train file is split into a calibration split, on which
  E-LANG's threshold is calibrated and the fine-tuning epoch is chosen, and
  the rest, which is trained on. dev.tsv is only reported, never used to
  choose anything. The calibration splits' line numbers in train.tsv (line 1
  is the header where the file has one) go to models/TASK-calibration-lines.txt.
  - SST-2: train.tsv holds 67,349 labelled phrases, every constituent of
    the parse trees of the SST training sentences, the whole sentences among
    them. A phrase that is no part of a longer phrase is a whole sentence
    ("root"). The calibration split is SST2_CALIBRATION roots drawn with
    random.Random(SPLIT_SEED).sample from the roots in sorted order: whole
    sentences, like dev.tsv. Every phrase that occurs inside a calibration
    sentence is left out of training, so no part of one is seen with its
    label.
  - CoLA, MRPC, RTE: CALIBRATION[task] lines drawn with
    random.Random(SPLIT_SEED).sample from the file's examples.

Unlabelled text for pre-training: the training side (calibration splits
left out) of the four tasks (SST-2's whole sentences, every sentence of the
pairs) and the English side of Multi30k's training captions; no dev or test
text. To these come WordNet's glosses (Debian's wordnet-base, WordNet 3.0
licence: use and redistribution permitted with its notice): every synset's
definitions and example sentences, 181,478 texts, from /usr/share/wordnet
(--wordnet). The vocabulary, VOCAB_SIZE lowercased WordPiece tokens, is
learned from the shared data's text alone (wordpiece.py), so that WordNet's
rare words do not take pieces from the words the tasks use; both sizes build
the same one.

Pre-training: BERT's masked language model (15% of the tokens; 80% [MASK],
10% random, 10% kept), a prediction head tied to the word embeddings and
dropped afterwards; sentence pairs are not joined (no next-sentence task).
Fine-tuning: cross-entropy, token types 0/1 for the two segments of a pair;
with --teacher (distillation, as TinyBERT's prediction layer is distilled
from BERT), the soft cross-entropy against the task's Super's class
probabilities of each training example instead of the gold labels.
Both stages: AdamW (weight decay on matrices), learning rate warmed up
linearly over the first WARMUP of the steps then decayed linearly to 0,
dropout, batches of examples of similar length, forward pass under bfloat16
autocast (weights, gradients and optimizer state in F32; evaluation in F32).
Pre-training keeps its state in MODELS/pretraining-SIZE.pt after every epoch:
the same command run again after a stop goes on from there, to the same
weights (the file is removed when every task's model is written).
After every fine-tuning epoch the model is scored on the calibration split
by the task's metric (MRPC: the mean of F1 and accuracy, since F1 alone is
highest for the useless "always equivalent"); the best epoch's weights are
kept (the earliest on a tie), rounded to F16, and the card's metrics are
computed with the rounded weights.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_glue_bert.py --size swift
  /usr/bin/python3 tools/train/train_glue_bert.py --size super
  /usr/bin/python3 tools/train/train_glue_bert.py --size swift --teacher models   (distilled Swifts)
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from bert import BertForSequenceClassification, MaskedLMHead, bert_config  # noqa: E402
from trainutil import (EpochCheckpoint, Log, check_teacher, count_parameters, decay_groups, elang_inputs,  # noqa: E402
                       fit, length_batches, linear_warmup_decay, optimizer_step, pad, read_safetensors, reproduce_lines,
                       run_elang, set_determinism, today, write_json, write_lines, write_safetensors)
from wordpiece import SPECIALS, build_vocab, load_tokenizer, write_vocab  # noqa: E402

SPLIT_SEED = 20220522
SST2_CALIBRATION = 1000
CALIBRATION = {"cola": 1000, "mrpc": 600, "rte": 400}
VOCAB_SIZE = 8000
MAX_LENGTH = 128
WARMUP = 0.06
MLM_PROBABILITY = 0.15
CLS, SEP, MASK = (SPECIALS.index(t) for t in ("[CLS]", "[SEP]", "[MASK]"))

# The GLUE layouts (as src/eval/tasks.c reads them): folder, whether the
# file has a header, the columns of text, pair and label, the label names in
# GLUE's order and how the file writes them; the metric chosen on.
TASKS = {
    "sst2": dict(dir="SST-2", header=True, text=0, pair=None, label=1, labels=["negative", "positive"],
                 values=["0", "1"], metric="accuracy"),
    "cola": dict(dir="CoLA", header=False, text=3, pair=None, label=1, labels=["unacceptable", "acceptable"],
                 values=["0", "1"], metric="mcc"),
    "mrpc": dict(dir="MRPC", header=True, text=3, pair=4, label=0, labels=["not_equivalent", "equivalent"],
                 values=["0", "1"], metric="f1+accuracy"),
    "rte": dict(dir="RTE", header=True, text=1, pair=2, label=3, labels=["entailment", "not_entailment"],
                values=["entailment", "not_entailment"], metric="accuracy"),
}

SIZES = {
    # hidden, layers, heads, intermediate; masked-LM epochs and learning
    # rate; fine-tuning epochs per task and learning rate. The
    # Super's epochs are fewer than the Swift's where its calibration scores
    # had peaked early in a longer run (SST-2 at epoch 1 of 3, MRPC 2 of 8,
    # RTE 3 of 8): one core trains it for hours. The Super's 4 masked-LM
    # epochs (2 before) won on the calibration splits by a rule fixed
    # before the run (README, "GLUE with BERT pairs").
    "swift": dict(hidden=128, layers=2, heads=2, intermediate=512, mlm_epochs=6, mlm_lr=1e-3,
                  epochs=dict(sst2=3, cola=6, mrpc=8, rte=8), lr=5e-4),
    "super": dict(hidden=256, layers=4, heads=4, intermediate=1024, mlm_epochs=4, mlm_lr=5e-4,
                  epochs=dict(sst2=2, cola=6, mrpc=5, rte=5), lr=2e-4),
}


def read_task(path, task):
    """[(line number, text, pair or None, label index)] of a GLUE file, as
    src/eval/tasks.c reads it: tab-separated, no quoting, a leading byte
    order mark dropped, line 1 the header where the task's file has one."""
    t = TASKS[task]
    with open(path, encoding="utf-8-sig") as f:
        lines = f.read().split("\n")
    rows = []
    for n, line in enumerate(lines, start=1):
        if (t["header"] and n == 1) or not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        rows.append((n, fields[t["text"]], fields[t["pair"]] if t["pair"] is not None else None,
                     t["values"].index(fields[t["label"]])))
    return rows


def normalize(text):
    """A phrase with single spaces and a space at both ends, so that
    `normalize(a) in normalize(b)` means "a is a run of whole words of b"."""
    return " " + " ".join(text.split()) + " "


def split_sst2(rows):
    """(calibration rows, training rows, unlabelled sentences) of SST-2's
    train.tsv, as the module docstring describes; the sentences are the
    whole sentences among the training rows, each once."""
    longest_first = sorted({normalize(r[1]) for r in rows}, key=lambda s: (-len(s), s))
    roots, seen = [], ""
    for phrase in longest_first:
        if phrase not in seen:
            roots.append(phrase)
            seen += phrase + "\n"
    chosen = set(random.Random(SPLIT_SEED).sample(sorted(roots), SST2_CALIBRATION))
    calibration, taken = [], set()
    for row in rows:
        phrase = normalize(row[1])
        if phrase in chosen and phrase not in taken:
            calibration.append(row)
            taken.add(phrase)
    inside = "\n".join(sorted(chosen))
    train = [row for row in rows if normalize(row[1]) not in inside]
    root_set, sentences = set(roots), {}
    for row in train:
        if normalize(row[1]) in root_set:
            sentences.setdefault(normalize(row[1]), row[1])
    return calibration, train, list(sentences.values())


def split_task(task, rows):
    """(calibration rows, training rows, unlabelled texts of the training rows)."""
    if task == "sst2":
        return split_sst2(rows)
    chosen = set(random.Random(SPLIT_SEED).sample(range(len(rows)), CALIBRATION[task]))
    calibration = [r for i, r in enumerate(rows) if i in chosen]
    train = [r for i, r in enumerate(rows) if i not in chosen]
    return calibration, train, [s for r in train for s in (r[1], r[2]) if s is not None]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\n").split("\n")


def load_data(data_dir, models_dir):
    """{task: (calibration, train, dev) rows} and the unlabelled text (each
    text once, in a fixed order); writes the calibration line files."""
    splits, unlabelled = {}, {}
    for task, t in TASKS.items():
        rows = read_task(os.path.join(data_dir, "glue", t["dir"], "train.tsv"), task)
        calibration, train, texts = split_task(task, rows)
        dev = read_task(os.path.join(data_dir, "glue", t["dir"], "dev.tsv"), task)
        splits[task] = (calibration, train, dev)
        for s in texts:
            unlabelled.setdefault(s, None)
        with open(os.path.join(models_dir, f"{task}-calibration-lines.txt"), "w") as f:
            f.write("".join(f"{r[0]}\n" for r in calibration))
    for s in read_lines(os.path.join(data_dir, "multi30k", "train.en")):
        unlabelled.setdefault(s, None)
    return splits, list(unlabelled)


def read_wordnet(wordnet_dir):
    """WordNet's glosses, each text once in file order: a synset's line in
    data.{noun,verb,adj,adv} ends in "| gloss", the gloss being definitions
    and quoted example sentences separated by semicolons. Lines starting
    with spaces are the licence header."""
    texts = {}
    for pos in ("noun", "verb", "adj", "adv"):
        path = os.path.join(wordnet_dir, f"data.{pos}")
        if not os.path.exists(path):
            raise SystemExit(f"{path}: no such file; install Debian's wordnet-base (apt-get install wordnet-base) "
                             "or point --wordnet at WordNet 3.0's dict folder")
        with open(path, encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue
                for part in line.split("|", 1)[1].split(";"):
                    text = part.strip().strip('"').strip()
                    if text:
                        texts.setdefault(text, None)
    return list(texts)


def encode(tokenizer, rows):
    """[(ids, token types, label)] of the rows."""
    return [tokenizer.encode(text, pair, MAX_LENGTH) + (label,) for _, text, pair, label in rows]


def batch_tensors(examples, idx):
    ids, mask = pad([examples[i][0] for i in idx])
    types, _ = pad([examples[i][1] for i in idx])
    return ids, mask, types


@torch.no_grad()
def predict(model, examples, num_labels, batch_size=128):
    """Logits [N, labels] of the encoded examples, in their order (eval mode, F32)."""
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    logits = torch.zeros(len(examples), num_labels)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        logits[idx] = model(*batch_tensors(examples, idx))
    return logits


def metrics(logits, examples):
    """accuracy, F1 of class 1, Matthews correlation (as src/eval/metrics.c)."""
    pred = logits.argmax(-1).tolist()
    gold = [e[2] for e in examples]
    tp = sum(p == 1 and g == 1 for p, g in zip(pred, gold))
    tn = sum(p == 0 and g == 0 for p, g in zip(pred, gold))
    fp = sum(p == 1 and g == 0 for p, g in zip(pred, gold))
    fn = sum(p == 0 and g == 1 for p, g in zip(pred, gold))
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {"accuracy": (tp + tn) / len(gold), "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
            "mcc": (tp * tn - fp * fn) / denominator if denominator else 0.0}


def selection_metric(task, m):
    return (m["f1"] + m["accuracy"]) / 2 if TASKS[task]["metric"] == "f1+accuracy" else m[TASKS[task]["metric"]]


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


def pretraining_checkpoint(args):
    """Where a size's pre-training keeps its state between epochs (removed
    when the run has written every task's model)."""
    return os.path.join(args.models, f"pretraining-{args.size}.pt")


def pretraining_settings(args, sentences):
    return {"size": args.size, "sentences": sentences, "mlm_epochs": args.mlm_epochs, "mlm_lr": args.mlm_lr,
            "batch_size": args.batch_size, "weight_decay": args.weight_decay, "dropout": args.dropout,
            "seed": args.seed}


def pretrain(model, config, sentences, args, log):
    """Masked-language-model pre-training of model.bert on the sentences
    (id lists), with a MaskedLMHead tied to the word embeddings, for
    args.mlm_epochs epochs, masks drawn afresh every epoch; a run stopped
    part-way goes on from its last whole epoch (EpochCheckpoint)."""
    head = MaskedLMHead(config, model.bert.embeddings.word_embeddings)
    both = torch.nn.ModuleDict({"model": model, "head": head})
    rng = random.Random(args.seed)
    steps_per_epoch = (len(sentences) + args.batch_size - 1) // args.batch_size
    total = steps_per_epoch * args.mlm_epochs
    optimizer = torch.optim.AdamW(decay_groups(both, args.weight_decay), lr=args.mlm_lr, betas=(0.9, 0.999), eps=1e-6)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(ids) for ids in sentences]
    checkpoint = EpochCheckpoint(pretraining_checkpoint(args), pretraining_settings(args, len(sentences)), both,
                                 optimizer, schedule, rng)
    both.train()
    for epoch in range(checkpoint.resume(log) + 1, args.mlm_epochs + 1):
        loss_sum, hits, count = 0.0, 0, 0
        for step, batch in enumerate(length_batches(lengths, args.batch_size, rng), start=1):
            ids, mask = pad([sentences[i] for i in batch])
            inputs, chosen = mask_tokens(ids, mask, config["vocab_size"])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = head(model.bert(inputs, mask)[chosen])
            loss = F.cross_entropy(logits.float(), ids[chosen])
            optimizer_step(optimizer, schedule, both, loss)
            loss_sum += loss.item()
            hits += int((logits.argmax(-1) == ids[chosen]).sum())
            count += int(chosen.sum())
            if step % 500 == 0:
                log(f"pre-training epoch {epoch} step {step}/{steps_per_epoch} loss {loss_sum / step:.4f}")
        log(f"pre-training epoch {epoch}: masked-LM loss {loss_sum / steps_per_epoch:.4f}, "
            f"accuracy {hits / count:.4f}")
        checkpoint.save(epoch)


def soft_cross_entropy(logits, probs):
    """Mean over the batch of -sum(probs * log softmax(logits)): the
    distillation loss, which is the cross-entropy when probs are one-hot."""
    return -(probs * F.log_softmax(logits, -1)).sum(-1).mean()


def finetune(model, task, train_data, calibration, epochs, args, log, teacher_probs=None):
    """Fine-tunes for `epochs` epochs on the gold labels, or, given
    teacher_probs [N, labels] (a teacher's class probabilities of each
    training example), on the soft cross-entropy against them; returns (best
    state dict, its epoch, calibration metric of every epoch)."""
    rng = random.Random(args.seed)
    total = (len(train_data) + args.batch_size - 1) // args.batch_size * epochs
    optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), eps=1e-6)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(e[0]) for e in train_data]
    num_labels = len(TASKS[task]["labels"])

    def batch_loss(batch):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(*batch_tensors(train_data, batch))
        if teacher_probs is not None:
            return soft_cross_entropy(logits.float(), teacher_probs[batch])
        return F.cross_entropy(logits.float(), torch.tensor([train_data[i][2] for i in batch]))

    def evaluate():
        m = metrics(predict(model, calibration, num_labels), calibration)
        return selection_metric(task, m), "calibration " + ", ".join(f"{k} {v:.4f}" for k, v in m.items())

    return fit(model, optimizer, schedule, epochs, lambda: length_batches(lengths, args.batch_size, rng),
               batch_loss, evaluate, log, 500)


def teacher_probabilities(teacher_dir, rows, examples):
    """The class probabilities [N, labels] the classifier in teacher_dir
    gives the rows (F32, by elang: run_elang says why), checked to have read
    the very ids the rows are encoded to here (the same tokenizer and
    truncation; main checked the vocabulary before pre-training)."""
    results = run_elang(["classify", "--model", teacher_dir, "--emit-ids"], elang_inputs(rows))
    for (line, _, _, _), (ids, types, _), r in zip(rows, examples, results):
        if r["input_ids"] != ids or r.get("token_type_ids", types) != types:
            raise SystemExit(f"{teacher_dir}: elang read train.tsv line {line} as other ids than this script")
    return F.softmax(torch.tensor([r["logits"] for r in results], dtype=torch.float32), -1)


def write_card(path, task, config, args, n_params, sizes, best_epoch, history, scores, minutes):
    t = TASKS[task]
    name, other = f"{task}-{args.size}", f"{task}-{'super' if args.size == 'swift' else 'swift'}"
    lines = [
        f"# {name}",
        "",
        f"The {args.size.capitalize()} model of elang's {task.upper()} demo pair (the other is `{other}`): a "
        f"BERT-style classifier ({' / '.join(t['labels'])}) trained from scratch by the elang project "
        "on the data in `../shared/data` and WordNet's glosses, with no pre-trained weights. It is a demo of "
        "E-LANG routing, not a competitive model.",
        "",
        "| | |",
        "|---|---|",
        "| architecture | BertForSequenceClassification, post-layer-norm, GELU (erf), [CLS] + tanh pooler |",
        f"| sizes | {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
        f"{config['num_attention_heads']} heads, intermediate {config['intermediate_size']}, "
        f"{config['max_position_embeddings']} positions |",
        f"| parameters | {n_params:,} |",
        f"| vocabulary | {config['vocab_size']} lowercased WordPiece tokens learned from the pre-training text "
        "(`tools/train/wordpiece.py`), the same for every task and size |",
        "| weights | `model.safetensors`, F16 |",
        f"| pre-training | masked language model (BERT's 15% masking, 80/10/10) on {sizes['unlabelled']:,} "
        "unlabelled texts: the training sides of SST-2 (whole sentences), CoLA, MRPC and RTE without their "
        f"calibration splits, and Multi30k's training captions (English); and {sizes['glosses']:,} WordNet 3.0 "
        f"glosses (definitions and example sentences; Debian's wordnet-base); {args.mlm_epochs} epochs, batch "
        f"{args.batch_size}, AdamW lr {args.mlm_lr:g}; the same encoder starts every task of this size |",
        f"| data | `../shared/data/glue/{t['dir']}/train.tsv` minus the calibration split: {sizes['train']:,} examples |",
        f"| calibration split | {sizes['calibration']:,} training examples (seed {SPLIT_SEED}; "
        f"`tools/train/train_glue_bert.py` says how they are drawn); their train.tsv line numbers are in "
        f"`models/{task}-calibration-lines.txt` |",
        f"| fine-tuning | {args.epochs[task]} epochs max, batch {args.batch_size}, AdamW lr {args.lr:g} "
        f"(warm-up {WARMUP:.0%}, linear decay), weight decay {args.weight_decay:g}, dropout "
        f"{config['hidden_dropout_prob']:g}, gradient clipping 1.0, bfloat16 autocast, seed {args.seed}"
        + (f"; distilled: the loss is the soft cross-entropy against `{task}-super`'s class probabilities of "
           "each training example (its logits in F32, by elang; softmax at temperature 1), not the gold labels"
           if args.teacher else "") + " |",
        f"| epoch kept | {best_epoch} (best calibration {t['metric']}; per epoch: "
        + ", ".join(f"{a:.4f}" for a in history) + ") |",
        f"| training time | {minutes:.0f} minutes from the start of this size's run to the end of this task "
        "(vocabulary, pre-training and the tasks before it included; wall clock, one thread, on a shared 2-core "
        "machine) |",
        f"| date | {today()} |",
        "",
        "Computed by the training script (PyTorch, with the F16 weights as stored):",
        "",
        "| split | examples | accuracy | F1 | MCC |",
        "|---|---|---|---|---|",
    ]
    for split, what in (("calibration", "calibration"), ("dev", f"dev (`glue/{t['dir']}/dev.tsv`, never used "
                                                                 "for any choice)")):
        m = scores[split]
        lines.append(f"| {what} | {scores[split + '_n']:,} | {m['accuracy']:.4f} | {m['f1']:.4f} | {m['mcc']:.4f} |")
    lines += [""] + reproduce_lines()
    write_lines(path, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, required=True)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--models", default="models", help="where the model directories go")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of " + ",".join(TASKS))
    parser.add_argument("--wordnet", default="/usr/share/wordnet",
                        help="WordNet 3.0's data.* files, whose glosses join the pre-training text")
    parser.add_argument("--mlm-epochs", type=int)
    parser.add_argument("--mlm-lr", type=float)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--teacher", help="distil: fine-tune each task on the class probabilities of "
                        "TEACHER/TASK-super (same vocabulary) instead of the gold labels")
    args = parser.parse_args()
    size = SIZES[args.size]
    args.mlm_epochs = size["mlm_epochs"] if args.mlm_epochs is None else args.mlm_epochs
    args.mlm_lr = args.mlm_lr or size["mlm_lr"]
    args.lr = args.lr or size["lr"]
    args.epochs = size["epochs"]
    tasks = args.tasks.split(",")
    unknown = [task for task in tasks if task not in TASKS]
    if unknown:
        raise SystemExit(f"--tasks: unknown task {unknown[0]!r} (the tasks: {', '.join(TASKS)})")
    if args.teacher:
        check_teacher([os.path.join(args.teacher, f"{task}-super") for task in tasks],
                      ("config.json", "model.safetensors", "vocab.txt"))
    log = Log()
    set_determinism(args.seed)
    os.makedirs(args.models, exist_ok=True)

    splits, unlabelled = load_data(args.data, args.models)
    glosses = read_wordnet(args.wordnet)
    log(f"{len(unlabelled)} unlabelled texts and {len(glosses)} WordNet glosses; " + ", ".join(
        f"{task} {len(c)} calibration / {len(t)} train / {len(d)} dev" for task, (c, t, d) in splits.items()))
    vocab_dir = os.path.join(args.models, f"{tasks[0]}-{args.size}")
    os.makedirs(vocab_dir, exist_ok=True)
    vocab = build_vocab(unlabelled, VOCAB_SIZE)
    write_vocab(vocab_dir, vocab)
    tokenizer = load_tokenizer(vocab_dir)
    log(f"vocabulary of {len(tokenizer.vocab)} tokens")
    for task in tasks if args.teacher else []:
        teacher_dir = os.path.join(args.teacher, f"{task}-super")
        if load_tokenizer(teacher_dir).vocab != tokenizer.vocab:
            raise SystemExit(f"{teacher_dir}/vocab.txt differs from this run's vocabulary: not the same text or size?")

    config = bert_config(len(tokenizer.vocab), size["hidden"], size["layers"], size["heads"], size["intermediate"],
                         ["LABEL_0", "LABEL_1"], MAX_LENGTH, args.dropout)
    encoder = BertForSequenceClassification(config)
    if args.mlm_epochs:
        pretrain(encoder, config, [tokenizer.encode(s, None, MAX_LENGTH)[0] for s in unlabelled + glosses], args, log)
    pretrained = copy.deepcopy(encoder.bert.state_dict())

    for task in tasks:
        calibration_rows, train_rows, dev_rows = splits[task]
        train_data, calibration, dev = (encode(tokenizer, r) for r in (train_rows, calibration_rows, dev_rows))
        config = bert_config(len(tokenizer.vocab), size["hidden"], size["layers"], size["heads"],
                             size["intermediate"], TASKS[task]["labels"], MAX_LENGTH, args.dropout)
        num_labels = len(TASKS[task]["labels"])
        teacher_probs = None
        if args.teacher:
            teacher_probs = teacher_probabilities(os.path.join(args.teacher, f"{task}-super"), train_rows, train_data)
            log(f"{task}: the teacher agrees with the gold labels on "
                f"{(teacher_probs.argmax(-1) == torch.tensor([e[2] for e in train_data])).float().mean():.4f} "
                "of the training examples")
        torch.manual_seed(args.seed)
        model = BertForSequenceClassification(config)
        model.bert.load_state_dict(pretrained)
        log(f"{task}: fine-tuning on {len(train_data)} examples" + (" (distilled)" if args.teacher else ""))
        best, best_epoch, history = finetune(model, task, train_data, calibration, args.epochs[task], args, log,
                                             teacher_probs)

        out = os.path.join(args.models, f"{task}-{args.size}")
        os.makedirs(out, exist_ok=True)
        write_vocab(out, vocab)
        weights = os.path.join(out, "model.safetensors")
        write_safetensors(weights, best, "F16")
        write_json(os.path.join(out, "config.json"), config)
        model.load_state_dict(read_safetensors(weights))
        scores = {"calibration": metrics(predict(model, calibration, num_labels), calibration),
                  "calibration_n": len(calibration), "dev": metrics(predict(model, dev, num_labels), dev),
                  "dev_n": len(dev)}
        log(f"{task}: kept epoch {best_epoch}; F16 weights: {json.dumps(scores)}")
        write_card(os.path.join(out, "README.md"), task, config, args, count_parameters(best),
                   {"unlabelled": len(unlabelled), "glosses": len(glosses), "train": len(train_data), "calibration": len(calibration)},
                   best_epoch, history, scores, log.minutes())
        log(f"wrote {out}")
    EpochCheckpoint.discard(pretraining_checkpoint(args))


if __name__ == "__main__":
    main()
