#!/usr/bin/python3
"""Trains the T5-style Swift or Super of elang's text-to-text GLUE pair: one
multi-task model for SST-2, CoLA, MRPC and RTE, trained as T5 was on GLUE,
with task prefixes and label words as targets, after T5's span-corruption
pre-training (--pretrain-epochs; none for the Swift, which is trained from
scratch). Writes a Hugging Face T5ForConditionalGeneration (v1.0)
directory that elang loads: models/glue-t5-SIZE/ with config.json,
model.safetensors (F16), spiece.model and a model card README.md.

Inputs, as elang builds them with --swift-prefix/--super-prefix and
--pair-infix (PREFIXES, PAIR_INFIX): "sst2 sentence: TEXT", "cola sentence:
TEXT", "mrpc sentence1: TEXT sentence2: PAIR", "rte sentence1: TEXT
sentence2: PAIR", then </s>. Targets: the task's label word (LABEL_WORDS,
GLUE's label names), then </s>. E-LANG routes by the first decoding step's
logits of the label words (`--label-words`), so each label word is one
piece of its own (a user-defined SentencePiece symbol, "▁" + word), as are
the task prefixes' words.

Data and splits are train_glue_bert.py's: every task's calibration split
of train.tsv (models/TASK-calibration-lines.txt) is held out to choose the
epoch and calibrate; dev.tsv is only reported. Every epoch takes all the
training examples of CoLA, MRPC and RTE and a fresh random SST2_PER_EPOCH of
SST-2's phrases (its 56k phrases would otherwise drown the small tasks, as
T5's examples-proportional mixing with a cap avoids).

Pre-training (T5's objective): the unlabelled text train_glue_bert.py
pre-trains on (the training sides of the four tasks and Multi30k, and
WordNet's glosses), one text at a time, each cut to PRETRAIN_TOKENS pieces
(texts of fewer than two pieces left out), or with --pack packed end to end
into sequences of PRETRAIN_TOKENS pieces as T5 packs its C4 text; in each,
NOISE_DENSITY of the pieces dropped in spans of MEAN_SPAN on average, each
span replaced by a sentinel <extra_id_k> in the input; the target lists the
sentinels, each followed by the span it stands for. The tokenizer is not
trained on this text: it stays the one of the task inputs. Packing gives
seven times fewer, longer sequences (an epoch of 489 steps instead of
3,648), and on the calibration splits it made the Super worse, not better
(tools/train/README.md), so it is not the default.

Tokenizer: SentencePiece unigram, SPM_PIECES pieces, trained on the training
inputs (with their prefixes); + 100 <extra_id_N> as T5Tokenizer adds.
Training: teacher-forced cross-entropy (with --teacher, the first step's
against a teacher's probabilities over the task's label words:
distillation), AdamW with relative learning rates (as train_multi30k.py),
linear warm-up and decay, dropout, bfloat16 autocast, batches of similar
length. After every epoch: each task's
calibration metric by the first step's label-word logits; the epoch with
the best mean is kept, rounded to F16.
Pre-training keeps its state in OUT.pretraining.pt (beside the output
folder) after every epoch: the same command run again after a stop goes on
from there, to the same weights; the file is removed at the end.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_glue_t5.py --size swift
  /usr/bin/python3 tools/train/train_glue_t5.py --size super
  /usr/bin/python3 tools/train/train_glue_t5.py --size swift --teacher models/glue-t5-super   (distilled)
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from t5 import EOS, T5ForConditionalGeneration, t5_config  # noqa: E402
from train_glue_bert import TASKS, load_data, metrics, read_wordnet, selection_metric  # noqa: E402
from train_multi30k import EXTRA_IDS, train_sentencepiece  # noqa: E402
from trainutil import (EpochCheckpoint, add_training_arguments, check_teacher, count_parameters, elang_inputs,  # noqa: E402
                       fit, length_batches, linear_warmup_decay, optimizer_step, pad, read_safetensors,
                       relative_groups, reproduce_lines, run_elang, start_training, today, write_json, write_lines,
                       write_safetensors)

PREFIXES = {"sst2": "sst2 sentence: ", "cola": "cola sentence: ", "mrpc": "mrpc sentence1: ",
            "rte": "rte sentence1: "}
PAIR_INFIX = " sentence2: "
LABEL_WORDS = {task: t["labels"] for task, t in TASKS.items()}
SPM_PIECES = 4000
SST2_PER_EPOCH = 20000
WARMUP = 0.04
SYMBOLS = sorted({"\u2581" + w for words in LABEL_WORDS.values() for w in words}
                 | {"\u2581" + w for w in ("sst2", "cola", "mrpc", "rte", "sentence:", "sentence1:", "sentence2:")})

PRETRAIN_TOKENS = 128
NOISE_DENSITY = 0.15
MEAN_SPAN = 3

SIZES = {
    # d_model, d_ff, heads, d_kv, encoder and decoder layers, epochs, relative learning rate, pre-training epochs
    "swift": dict(d_model=128, d_ff=512, heads=4, d_kv=32, layers=2, decoder_layers=1, epochs=6, lr=2e-2,
                  pretrain_epochs=0),
    "super": dict(d_model=256, d_ff=1024, heads=4, d_kv=64, layers=4, decoder_layers=2, epochs=6, lr=2e-2,
                  pretrain_epochs=1),
}


def input_text(task, text, pair):
    """The one text T5 reads, as elang joins it (prefix, text, infix, pair)."""
    return PREFIXES[task] + text + (PAIR_INFIX + pair if pair is not None else "")


def encode_rows(sp, task, rows, word_ids):
    """[(source ids, target ids, label)] of GLUE rows."""
    sources = sp.encode([input_text(task, text, pair) for _, text, pair, _ in rows])
    return [(ids + [EOS], [word_ids[task][label], EOS], label) for ids, (_, _, _, label) in zip(sources, rows)]


@torch.no_grad()
def label_word_logits(model, examples, ids, batch_size=128):
    """[N, labels] first decoding step's logits of the label words' ids (F32, eval)."""
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    out = torch.zeros(len(examples), len(ids))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        src, mask = pad([examples[i][0] for i in idx], 0)
        out[idx] = model.first_step_logits(model.encode(src, mask), mask)[:, ids]
    return out


def evaluate_tasks(model, data, word_ids, split):
    """{task: metrics} on one split (0 calibration, 2 dev)."""
    return {task: metrics(label_word_logits(model, d[split], word_ids[task]), [(None, None, e[2]) for e in d[split]])
            for task, d in data.items()}


def seq2seq_loss(model, sources, targets, first_step=None):
    """Teacher-forced cross-entropy of the target id lists given the source
    id lists (bfloat16 autocast, the loss in F32). first_step, a pair of
    [B, k] tensors (ids, probabilities), makes the first target step's loss
    the soft cross-entropy against those probabilities at those ids instead
    (distillation); the mean is over target tokens either way."""
    ids, mask = pad(sources, 0)
    labels, _ = pad(targets, -100)
    target = labels >= 0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model.lm_head(model.teacher_forced(ids, mask, labels)[target])
    if first_step is None:
        return torch.nn.functional.cross_entropy(logits.float(), labels[target])
    log_probs = torch.nn.functional.log_softmax(logits.float(), -1)
    is_first = torch.zeros_like(target)
    is_first[:, 0] = True
    is_first = is_first[target]  # rows of logits that are a first step, in the rows' (example, step) order
    word_ids, probs = first_step
    first_loss = -(probs * log_probs[is_first].gather(1, word_ids)).sum()
    rest_loss = -log_probs[~is_first].gather(1, labels[target][~is_first][:, None]).sum()
    return (first_loss + rest_loss) / len(log_probs)


def random_partition(total, parts, rng):
    """`parts` positive lengths summing to total (total >= parts), uniformly."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def corrupt_spans(ids, rng, vocab_size):
    """T5's span corruption of one text of at least two pieces: (input ids,
    target ids). Kept and dropped stretches alternate, starting with a kept
    one; the k-th dropped one is <extra_id_k>, id vocab_size - 1 - k as
    T5Tokenizer numbers them."""
    n = len(ids)
    dropped = min(max(1, round(n * NOISE_DENSITY)), n - 1)
    spans = max(1, min(round(dropped / MEAN_SPAN), n - dropped))
    source, target, at = [], [], 0
    for k, (keep, drop) in enumerate(zip(random_partition(n - dropped, spans, rng),
                                         random_partition(dropped, spans, rng))):
        sentinel = vocab_size - 1 - k
        source += ids[at:at + keep] + [sentinel]
        target += [sentinel] + ids[at + keep:at + keep + drop]
        at += keep + drop
    return source + [EOS], target + [EOS]


def pack(texts, length):
    """The texts' pieces end to end, cut into sequences of `length` pieces;
    a last piece of fewer than two is dropped (nothing to corrupt)."""
    stream = [i for ids in texts for i in ids]
    return [stream[k:k + length] for k in range(0, len(stream), length) if len(stream) - k >= 2]


def pretrain(model, texts, args, checkpoint_path, log):
    """Span-corruption pre-training on texts (id lists of at least two
    pieces) for args.pretrain_epochs epochs, spans drawn afresh every epoch,
    with the fine-tuning's optimizer settings and a schedule of its own; its
    state is kept in checkpoint_path after every epoch, so that a run stopped
    part-way goes on from there when run again (EpochCheckpoint)."""
    rng = random.Random(args.seed)
    vocab_size = model.config["vocab_size"]
    steps_per_epoch = (len(texts) + args.batch_size - 1) // args.batch_size
    total = steps_per_epoch * args.pretrain_epochs
    optimizer = torch.optim.AdamW(relative_groups(model, args.lr, args.weight_decay), betas=(0.9, 0.98), eps=1e-8)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(ids) for ids in texts]
    settings = {"size": args.size, "texts": len(texts), "pretrain_epochs": args.pretrain_epochs, "lr": args.lr,
                "batch_size": args.batch_size, "weight_decay": args.weight_decay, "dropout": args.dropout,
                "seed": args.seed}
    checkpoint = EpochCheckpoint(checkpoint_path, settings, model, optimizer, schedule, rng)
    model.train()
    for epoch in range(checkpoint.resume(log) + 1, args.pretrain_epochs + 1):
        loss_sum = 0.0
        for step, batch in enumerate(length_batches(lengths, args.batch_size, rng), start=1):
            pairs = [corrupt_spans(texts[i], rng, vocab_size) for i in batch]
            loss = seq2seq_loss(model, [p[0] for p in pairs], [p[1] for p in pairs])
            optimizer_step(optimizer, schedule, model, loss)
            loss_sum += loss.item()
            if step % 500 == 0:
                log(f"pre-training epoch {epoch} step {step}/{steps_per_epoch} loss {loss_sum / step:.4f}")
        log(f"pre-training epoch {epoch}: span-corruption loss {loss_sum / steps_per_epoch:.4f}")
        checkpoint.save(epoch)


def train(model, data, word_ids, args, log):
    rng = random.Random(args.seed)
    fixed = [e for task in ("cola", "mrpc", "rte") for e in data[task][1]]
    sst2 = data["sst2"][1]
    per_epoch = len(fixed) + min(SST2_PER_EPOCH, len(sst2))
    total = (per_epoch + args.batch_size - 1) // args.batch_size * args.epochs
    optimizer = torch.optim.AdamW(relative_groups(model, args.lr, args.weight_decay), betas=(0.9, 0.98), eps=1e-8)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    epoch_examples = []

    def batches():
        epoch_examples[:] = fixed + rng.sample(sst2, min(SST2_PER_EPOCH, len(sst2)))
        return length_batches([len(e[0]) for e in epoch_examples], args.batch_size, rng)

    def batch_loss(batch):
        first_step = None
        if len(epoch_examples[batch[0]]) > 3:  # distilling: (source, target, label, (label-word ids, probabilities))
            first_step = (torch.tensor([epoch_examples[i][3][0] for i in batch]),
                          torch.stack([epoch_examples[i][3][1] for i in batch]))
        return seq2seq_loss(model, [epoch_examples[i][0] for i in batch], [epoch_examples[i][1] for i in batch],
                            first_step)

    def evaluate():
        m = evaluate_tasks(model, data, word_ids, 0)
        mean = sum(selection_metric(task, x) for task, x in m.items()) / len(m)
        return mean, "calibration " + ", ".join(f"{task} {selection_metric(task, x):.4f}" for task, x in m.items())

    return fit(model, optimizer, schedule, args.epochs, batches, batch_loss, evaluate, log, 200)


def with_teacher(teacher_dir, splits, data, word_ids):
    """data with every training example extended by (its task's label-word
    ids, the teacher's probabilities over them: softmax of its first step's
    label-word logits, F32, by `elang classify --label-words`:
    trainutil.run_elang says why). main checked that the teacher reads the
    same pieces."""
    extended = {}
    for task, (calibration, train_examples, dev) in data.items():
        results = run_elang(["classify", "--model", teacher_dir, "--prefix", PREFIXES[task], "--pair-infix", PAIR_INFIX,
                             "--label-words", ",".join(LABEL_WORDS[task])], elang_inputs(splits[task][1]))
        probs = torch.tensor([r["probs"] for r in results], dtype=torch.float32)
        extended[task] = (calibration, [e + ((word_ids[task], p),) for e, p in zip(train_examples, probs)], dev)
    return extended


def write_card(path, config, args, n_params, sizes, best_epoch, history, scores, minutes):
    other = "glue-t5-super" if args.size == "swift" else "glue-t5-swift"
    lines = [
        f"# glue-t5-{args.size}",
        "",
        f"The {args.size.capitalize()} model of elang's text-to-text GLUE pair (the other is `{other}`): one T5 "
        "(v1.0 architecture) for SST-2, CoLA, MRPC and RTE, trained from scratch by the elang project "
        + ("with T5's span-corruption pre-training on the shared data's text and WordNet's glosses, then on "
           if args.pretrain_epochs > 0 else "on ")
        + "the tasks' training splits, with task prefixes and label words as targets, as T5 was trained on GLUE. "
        "It is a demo of E-LANG routing, not a competitive model.",
        "",
        "| | |",
        "|---|---|",
        f"| sizes | {config['num_layers']} encoder + {config['num_decoder_layers']} decoder layers, d_model "
        f"{config['d_model']}, d_ff {config['d_ff']}, {config['num_heads']} heads of {config['d_kv']} |",
        f"| parameters | {n_params:,} |",
        f"| tokenizer | `spiece.model`: SentencePiece unigram, {SPM_PIECES} pieces trained on the training inputs, "
        f"the label words and prefix words as pieces of their own; + {EXTRA_IDS} `<extra_id_N>`, vocab_size "
        f"{config['vocab_size']} |",
        "| inputs | " + "; ".join(f"`{p}...`" for p in PREFIXES.values()) + f"; pairs joined by `{PAIR_INFIX}` "
        "(elang: `--swift-prefix`, `--pair-infix`) |",
        "| label words | " + "; ".join(f"{t}: {', '.join(w)}" for t, w in LABEL_WORDS.items()) + " |",
        "| weights | `model.safetensors`, F16 |",
        "| data | the GLUE training files minus the calibration splits of train_glue_bert.py: "
        + ", ".join(f"{t} {n:,}" for t, n in sizes.items() if t in TASKS)
        + f"; SST-2 sampled {SST2_PER_EPOCH:,} a epoch |",
        "| pre-training | " + (f"span corruption ({NOISE_DENSITY:.0%} of the pieces in spans of {MEAN_SPAN} on "
                               f"average) on {sizes['unlabelled']:,} texts "
                               + (f"packed into {sizes['sequences']:,} sequences of {PRETRAIN_TOKENS} pieces"
                                  if args.pack else f"({sizes['sequences']:,} of two pieces or more), one at a time, "
                                  f"each cut to {PRETRAIN_TOKENS} pieces")
                               + ": the training sides of SST-2, CoLA, MRPC, "
                               "RTE and Multi30k, and WordNet 3.0's glosses (Debian's wordnet-base); "
                               f"{args.pretrain_epochs} "
                               f"epoch{'s' * (args.pretrain_epochs > 1)}, the training's optimizer settings |"
                               if args.pretrain_epochs > 0 else "none |"),
        f"| training | {args.epochs} epochs max, batch {args.batch_size}, AdamW, relative lr {args.lr:g} × each "
        f"parameter's RMS when the phase starts (β2 0.98, warm-up {WARMUP:.0%}, linear decay), weight decay "
        f"{args.weight_decay:g}, dropout {config['dropout_rate']:g}, bfloat16 autocast, seed {args.seed}"
        + (f"; distilled: the first target step's loss is the soft cross-entropy against "
           f"`{os.path.basename(os.path.normpath(args.teacher))}`'s probabilities over the task's label words "
           "(softmax of its first step's label-word logits, F32, by elang), not the gold label word"
           if args.teacher else "") + " |",
        f"| epoch kept | {best_epoch} (best mean calibration metric; per epoch: "
        + ", ".join(f"{b:.4f}" for b in history) + ") |",
        f"| training time | {minutes:.0f} minutes (wall clock, one thread, on a shared 2-core machine) |",
        f"| date | {today()} |",
        "",
        "First decoding step's label-word logits, computed by the training script (PyTorch, F16 weights as "
        "stored):",
        "",
        "| task | split | accuracy | F1 | MCC |",
        "|---|---|---|---|---|",
    ]
    for task in TASKS:
        for split in ("calibration", "dev"):
            m = scores[split][task]
            lines.append(f"| {task} | {split} | {m['accuracy']:.4f} | {m['f1']:.4f} | {m['mcc']:.4f} |")
    lines += [""] + reproduce_lines()
    write_lines(path, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_arguments(parser, SIZES, "../shared/data", 64)
    parser.add_argument("--pretrain-epochs", type=int, help="span-corruption epochs before fine-tuning (default: "
                        + ", ".join(f"{k} {v['pretrain_epochs']}" for k, v in SIZES.items()) + ")")
    parser.add_argument("--pack", action="store_true",
                        help=f"pre-train on the texts packed end to end into {PRETRAIN_TOKENS}-piece sequences instead "
                        "of one at a time (worse for the Super on the calibration splits: tools/train/README.md)")
    parser.add_argument("--wordnet", default="/usr/share/wordnet",
                        help="WordNet 3.0's dict folder, whose glosses join the pre-training text")
    parser.add_argument("--teacher", help="distil: the first target step learns the label-word probabilities of "
                        "the model in TEACHER (same spiece.model) instead of the gold label word")
    args = parser.parse_args()
    if args.teacher:
        check_teacher([args.teacher], ("config.json", "model.safetensors", "spiece.model"))
    size, out, log = start_training(args, SIZES, "glue-t5")
    if args.pretrain_epochs is None:
        args.pretrain_epochs = size["pretrain_epochs"]
    splits, unlabelled = load_data(args.data, os.path.dirname(os.path.abspath(out)))
    glosses = read_wordnet(args.wordnet) if args.pretrain_epochs > 0 else []
    train_sentencepiece(os.path.join(out, "spiece.model"),
                        [input_text(task, text, pair) for task, (_, rows, _) in splits.items()
                         for _, text, pair, _ in rows], SPM_PIECES, SYMBOLS)
    if args.teacher:
        with open(os.path.join(args.teacher, "spiece.model"), "rb") as a, open(os.path.join(out, "spiece.model"),
                                                                              "rb") as b:
            if a.read() != b.read():
                raise SystemExit(f"{args.teacher}/spiece.model differs from this run's: the teacher reads other pieces")
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out, "spiece.model"))
    word_ids = {task: [sp.piece_to_id("\u2581" + w) for w in words] for task, words in LABEL_WORDS.items()}
    data = {task: tuple(encode_rows(sp, task, rows, word_ids) for rows in (calibration, train_rows, dev))
            for task, (calibration, train_rows, dev) in splits.items()}
    log("tokenizer trained; " + ", ".join(f"{t} {len(d[1])} train" for t, d in data.items()))

    config = t5_config(SPM_PIECES + EXTRA_IDS, size["d_model"], size["d_ff"], size["d_kv"], size["heads"],
                       size["layers"], size["decoder_layers"], args.dropout)
    model = T5ForConditionalGeneration(config)
    texts = unlabelled + glosses if args.pretrain_epochs > 0 else []
    encoded = sp.encode(texts)
    sequences = pack(encoded, PRETRAIN_TOKENS) if args.pack else \
        [ids[:PRETRAIN_TOKENS] for ids in encoded if len(ids) >= 2]
    checkpoint_path = os.path.normpath(out) + ".pretraining.pt"
    if sequences:
        log(f"pre-training on {len(unlabelled)} unlabelled texts and {len(glosses)} WordNet glosses, "
            + (f"{len(sequences)} sequences of {PRETRAIN_TOKENS} pieces" if args.pack else
               f"{len(sequences)} of them one at a time"))
        pretrain(model, sequences, args, checkpoint_path, log)
    if args.teacher:
        data = with_teacher(args.teacher, splits, data, word_ids)
        log("teacher's label-word probabilities computed; it agrees with the gold labels on " + ", ".join(
            f"{t} {sum(int(e[3][1].argmax()) == e[2] for e in d[1]) / len(d[1]):.4f}" for t, d in data.items()))
    best, best_epoch, history = train(model, data, word_ids, args, log)

    weights = os.path.join(out, "model.safetensors")
    write_safetensors(weights, best, "F16")
    write_json(os.path.join(out, "config.json"), config)
    model.load_state_dict(read_safetensors(weights))
    scores = {"calibration": evaluate_tasks(model, data, word_ids, 0), "dev": evaluate_tasks(model, data, word_ids, 2)}
    log(f"kept epoch {best_epoch}; F16 weights: {json.dumps(scores)}")
    write_card(os.path.join(out, "README.md"), config, args, count_parameters(best),
               {**{t: len(d[1]) for t, d in data.items()}, "unlabelled": len(texts), "sequences": len(sequences)},
               best_epoch, history, scores, log.minutes())
    log(f"wrote {out}")
    EpochCheckpoint.discard(checkpoint_path)


if __name__ == "__main__":
    main()
