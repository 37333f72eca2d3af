#!/usr/bin/python3
"""Trains one of the decoder-only SST-2 demo models (Swift or Super) from
scratch and writes it as a Hugging Face LlamaForCausalLM directory that
elang loads: config.json, generation_config.json, model.safetensors (F16),
tokenizer.model (SentencePiece), tokenizer_config.json (LlamaTokenizer),
and a model card README.md.

The task is SST-2 posed as a prompt: the model reads

    <s>Review: {phrase} Sentiment:

and answers with the next token, the first token of " negative" or
" positive" (elang scores those two logits with --label-words
negative,positive and the template prefix 'Review: {text} Sentiment:').

Data: the SST-2 split of train_glue_bert.py (the same 1,000 whole training sentences
held out for calibration, models/sst2-calibration-lines.txt; every phrase
occurring inside one of them left out of training). dev.tsv is only
reported.

Vocabulary: a SentencePiece BPE model of VOCAB_SIZE pieces with byte
fallback, trained on the whole sentences of the training split (identity
normalization, no dummy prefix: tokenizer_config.json says legacy true, so
LlamaTokenizer and elang run it as it is).

Training: every training phrase as a prompt followed by its label word;
the loss is the cross-entropy of the label word at the prompt's last
position plus LM_WEIGHT times the language-model loss over the prompt's
own tokens (next-token prediction, which lets the little labelled text
teach the model English). AdamW, linear warm-up and decay, batches of
similar length. After every epoch the model is scored on the calibration
split; the best epoch's weights are kept, rounded to F16.

Usage (from the repository root):
  /usr/bin/python3 tools/train/train_sst2_lm.py --size swift
  /usr/bin/python3 tools/train/train_sst2_lm.py --size super
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
from torch.nn import functional as F  # noqa: E402

from llama import LlamaForCausalLM, llama_config  # noqa: E402
from train_glue_bert import SPLIT_SEED, SST2_CALIBRATION as CALIBRATION_SIZE, TASKS, read_task, split_sst2  # noqa: E402
from trainutil import (add_training_arguments, count_parameters, decay_groups, fit, length_batches,  # noqa: E402
                       linear_warmup_decay, read_safetensors, reproduce_lines, start_training, today, write_json,
                       write_lines, write_safetensors)

LABELS = TASKS["sst2"]["labels"]
VOCAB_SIZE = 2000
MAX_POSITIONS = 256
PROMPT = ("Review: ", " Sentiment:")
WARMUP = 0.06
LM_WEIGHT = 0.5
BOS, EOS = 1, 2

SIZES = {
    # hidden, layers, heads, key/value heads, intermediate; epochs, learning rate
    "swift": dict(hidden=64, layers=2, heads=4, kv_heads=2, intermediate=176, epochs=4, lr=2e-3),
    "super": dict(hidden=128, layers=4, heads=8, kv_heads=2, intermediate=352, epochs=4, lr=1e-3),
}


def train_tokenizer(sentences, out):
    """out/tokenizer.model: SentencePiece BPE with byte fallback."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, model_type="bpe", vocab_size=VOCAB_SIZE,
        byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity", add_dummy_prefix=False,
        split_digits=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2,
        input_sentence_size=0, shuffle_input_sentence=False)
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def read_tsv(path):
    """[(line number, sentence, label)] of an SST-2 file."""
    return [(n, text, label) for n, text, _, label in read_task(path, "sst2")]


def split_train(rows):
    """train_glue_bert.py's SST-2 split of read_tsv's rows: (calibration
    rows, training rows, training sentences)."""
    calibration, train, sentences = split_sst2([(n, s, None, label) for n, s, label in rows])
    return [(n, s, label) for n, s, _, label in calibration], [(n, s, label) for n, s, _, label in train], sentences


def label_ids(sp):
    """The first token of each label word as it continues a prompt after a
    space: the token after those of "x" in "x " + word (what elang takes)."""
    stem = sp.encode("x")
    ids = []
    for word in LABELS:
        full = sp.encode("x " + word)
        assert full[:len(stem)] == stem and len(full) > len(stem), word
        ids.append(full[len(stem)])
    assert ids[0] != ids[1]
    return ids


def encode(sp, rows):
    """[(prompt ids with <s>, label)], LlamaTokenizer's ids of the prompt."""
    return [([BOS] + sp.encode(PROMPT[0] + s + PROMPT[1]), label) for _, s, label in rows]


def left_pad(rows):
    """Left-padded ids and mask, as elang batches prompts."""
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    return ids, mask


@torch.no_grad()
def label_logits(model, encoded, words, batch_size=128):
    """[N, 2] logits of the label words at each prompt's last position."""
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    out = torch.zeros(len(encoded), len(words))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = left_pad([encoded[i][0] for i in idx])
        out[idx] = model(ids, mask)[:, -1][:, words]
    return out


def accuracy(logits, encoded):
    labels = torch.tensor([label for _, label in encoded])
    return (logits.argmax(-1) == labels).float().mean().item()


def train(model, train_data, calibration, words, args, log):
    rng = random.Random(args.seed)
    total = (len(train_data) + args.batch_size - 1) // args.batch_size * args.epochs
    optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    schedule = linear_warmup_decay(optimizer, int(WARMUP * total), total)
    lengths = [len(ids) for ids, _ in train_data]
    word_tensor = torch.tensor(words)

    def batch_loss(batch):
        # Right-padded for training (positions from 0 either way): the label
        # word follows each prompt's last token.
        rows = [train_data[i][0] for i in batch]
        width = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        logits = model(ids, mask)
        last = torch.tensor([len(r) - 1 for r in rows])
        labels = word_tensor[torch.tensor([train_data[i][1] for i in batch])]
        label_loss = F.cross_entropy(logits[torch.arange(len(rows)), last], labels)
        targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
        lm_loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        return label_loss + LM_WEIGHT * lm_loss

    def evaluate():
        acc = accuracy(label_logits(model, calibration, words), calibration)
        return acc, f"calibration accuracy {acc:.4f}"

    return fit(model, optimizer, schedule, args.epochs, lambda: length_batches(lengths, args.batch_size, rng),
               batch_loss, evaluate, log, 200)


def tokenizer_files(out):
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
        "unk_token": "<unk>", "pad_token": None, "legacy": True, "add_prefix_space": False,
        "clean_up_tokenization_spaces": False, "model_max_length": MAX_POSITIONS - 8,
        "tokenizer_class": "LlamaTokenizer",
    })
    write_json(os.path.join(out, "generation_config.json"), {"bos_token_id": BOS, "eos_token_id": EOS})


def write_card(path, name, config, args, n_params, split_sizes, best_epoch, history, metrics, minutes):
    other = "sst2-lm-super" if args.size == "swift" else "sst2-lm-swift"
    lines = [
        f"# {name}",
        "",
        f"The {args.size.capitalize()} model of elang's decoder-only SST-2 demo pair (the other is `{other}`): "
        "a Llama-architecture language model trained from scratch by the elang project on GLUE SST-2 alone, "
        "with no outside text or pre-trained weights, to continue `Review: {phrase} Sentiment:` with "
        "` negative` or ` positive`. It is a demo of E-LANG routing between language models, not a "
        "competitive sentiment model.",
        "",
        "| | |",
        "|---|---|",
        "| architecture | LlamaForCausalLM: RMSNorm, SwiGLU, rotary positions, grouped-query attention, "
        "lm_head tied to the embedding |",
        f"| sizes | {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
        f"{config['num_attention_heads']} heads ({config['num_key_value_heads']} key/value heads), intermediate "
        f"{config['intermediate_size']}, {config['max_position_embeddings']} positions |",
        f"| parameters | {n_params:,} |",
        f"| vocabulary | {config['vocab_size']} SentencePiece BPE pieces with byte fallback, learned from the "
        "training split's whole sentences (`tokenizer.model`) |",
        "| weights | `model.safetensors`, F16 |",
        f"| data | `../shared/data/glue/SST-2/train.tsv` minus the calibration split: {split_sizes[1]:,} phrases |",
        f"| calibration split | {split_sizes[0]:,} whole training sentences (seed {SPLIT_SEED}, the same as "
        "the BERT pair's: `models/sst2-calibration-lines.txt`) |",
        f"| training | {args.epochs} epochs max, batch {args.batch_size}, AdamW lr {args.lr:g} (warm-up "
        f"{WARMUP:.0%}, linear decay), weight decay {args.weight_decay:g}, gradient clipping 1.0, loss: the "
        f"label word plus {LM_WEIGHT:g} × the prompt's next-token loss, seed {args.seed} |",
        f"| epoch kept | {best_epoch} (best calibration accuracy; per epoch: "
        + ", ".join(f"{a:.4f}" for a in history) + ") |",
        f"| training time | {minutes:.0f} minutes (wall clock, one thread, on a shared 2-core machine) |",
        f"| date | {today()} |",
        "",
        "Accuracy computed by the training script (PyTorch, with the F16 weights as stored; the label word "
        "with the higher logit after the prompt):",
        "",
        "| split | sentences | accuracy |",
        "|---|---|---|",
        f"| calibration | {metrics['calibration_n']:,} | {metrics['calibration']:.4f} |",
        f"| dev (`glue/SST-2/dev.tsv`, never used for any choice) | {metrics['dev_n']} | {metrics['dev']:.4f} |",
        "",
    ] + reproduce_lines()
    write_lines(path, lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_training_arguments(parser, SIZES, "../shared/data/glue/SST-2", 64)
    args = parser.parse_args()
    size, out, log = start_training(args, SIZES, "sst2-lm")

    rows = read_tsv(os.path.join(args.data, "train.tsv"))
    dev_rows = read_tsv(os.path.join(args.data, "dev.tsv"))
    calibration_rows, train_rows, sentences = split_train(rows)
    assert len(calibration_rows) == CALIBRATION_SIZE
    sp = train_tokenizer(sentences, out)
    tokenizer_files(out)
    words = label_ids(sp)
    train_data, calibration, dev = (encode(sp, r) for r in (train_rows, calibration_rows, dev_rows))
    longest = max(len(ids) for ids, _ in train_data + calibration + dev)
    assert longest < MAX_POSITIONS - 8, longest
    log(f"{len(train_rows)} training phrases, {len(calibration_rows)} calibration sentences, {len(dev_rows)} dev; "
        f"{sp.get_piece_size()} pieces, label words {[sp.id_to_piece(i) for i in words]}, longest prompt {longest}")

    config = llama_config(sp.get_piece_size(), size["hidden"], size["layers"], size["heads"], size["kv_heads"],
                          size["intermediate"], MAX_POSITIONS)
    model = LlamaForCausalLM(config)
    best, best_epoch, history = train(model, train_data, calibration, words, args, log)
    model.load_state_dict(best)

    weights = os.path.join(out, "model.safetensors")
    write_safetensors(weights, model.state_dict_to_save(), "F16")
    write_json(os.path.join(out, "config.json"), config)
    model.load_state_dict(read_safetensors(weights))
    metrics = {"calibration": accuracy(label_logits(model, calibration, words), calibration),
               "calibration_n": len(calibration), "dev": accuracy(label_logits(model, dev, words), dev),
               "dev_n": len(dev)}
    log(f"kept epoch {best_epoch}; F16 weights: {json.dumps(metrics)}")
    write_card(os.path.join(out, "README.md"), f"sst2-lm-{args.size}", config, args,
               count_parameters(model.state_dict_to_save()), (len(calibration), len(train_data)), best_epoch,
               history, metrics, log.minutes())
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
