#!/usr/bin/python3
"""Checks that a pre-training stopped after an epoch and run again ends
with the weights (and PyTorch's random state) of a run that never stopped,
for both pre-training loops (train_glue_bert.py's masked LM and
train_glue_t5.py's span corruption), on tiny models and random text in a
temporary folder; and that a checkpoint of other settings, or a truncated
one, is refused.
Prints one line per check and exits 1 if any fails.

  /usr/bin/python3 tools/train/check_checkpoint.py     (a few seconds)
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import types  # noqa: E402

import torch  # noqa: E402

import train_glue_bert  # noqa: E402
import train_glue_t5  # noqa: E402
import trainutil  # noqa: E402
from bert import BertForSequenceClassification, bert_config  # noqa: E402
from t5 import T5ForConditionalGeneration, t5_config  # noqa: E402

VOCAB = 60


class Stop(Exception):
    pass


def texts(count, first):
    g = torch.Generator().manual_seed(5)
    return [[first] + torch.randint(8, VOCAB, (int(n),), generator=g).tolist()
            for n in torch.randint(3, 20, (count,), generator=g)]


def bert_run(folder):
    config = bert_config(VOCAB, 32, 2, 2, 64, ["a", "b"], 32, 0.1)
    model = BertForSequenceClassification(config)
    args = types.SimpleNamespace(size="swift", models=folder, mlm_epochs=3, mlm_lr=1e-3, batch_size=16,
                                 weight_decay=0.01, dropout=0.1, seed=1)
    sentences = [ids + [train_glue_bert.SEP] for ids in texts(300, train_glue_bert.CLS)]
    train_glue_bert.pretrain(model, config, sentences, args, lambda message: None)
    return model


def t5_run(folder):
    model = T5ForConditionalGeneration(t5_config(VOCAB + 100, 32, 64, 16, 2, 1, 1, 0.1))
    args = types.SimpleNamespace(size="super", pretrain_epochs=3, lr=2e-2, batch_size=16, weight_decay=0.01,
                                 dropout=0.1, seed=1)
    train_glue_t5.pretrain(model, texts(300, 9), args, os.path.join(folder, "t5.pretraining.pt"),
                           lambda message: None)
    return model


def outcome(run, folder, stop_after=None):
    """(weights, PyTorch's random state) of run from a fresh seed; None when
    stopped on purpose after epoch stop_after's checkpoint."""
    trainutil.set_determinism(1)
    save = trainutil.EpochCheckpoint.save

    def stopping(self, epoch):
        save(self, epoch)
        if epoch == stop_after:
            raise Stop

    trainutil.EpochCheckpoint.save = stopping
    try:
        model = run(folder)
    except Stop:
        return None
    finally:
        trainutil.EpochCheckpoint.save = save
    return {k: v.clone() for k, v in model.state_dict().items()}, torch.get_rng_state()


def refused(checkpoint, what):
    """Whether resuming from checkpoint stops the run, as it must; says which."""
    try:
        checkpoint.resume(lambda message: None)
    except SystemExit:
        print(f"{what} is refused")
        return True
    print(f"{what} was RESUMED")
    return False


def main():
    failed = 0
    for name, run in (("masked LM", bert_run), ("span corruption", t5_run)):
        with tempfile.TemporaryDirectory() as straight, tempfile.TemporaryDirectory() as stopped:
            reference = outcome(run, straight)
            assert outcome(run, stopped, stop_after=2) is None
            resumed = outcome(run, stopped)
            same = all(torch.equal(reference[0][k], resumed[0][k]) for k in reference[0]) and \
                torch.equal(reference[1], resumed[1])
            print(f"{name}: stopped after epoch 2 of 3 and run again: "
                  f"{'the same weights' if same else 'OTHER WEIGHTS'}")
            failed += not same
            path = [os.path.join(stopped, f) for f in os.listdir(stopped) if f.endswith(".pt")][0]
            other = trainutil.EpochCheckpoint(path, {"other": "settings"}, None, None, None, None)
            failed += not refused(other, f"{name}: a checkpoint of other settings")
            with open(path, "r+b") as f:
                f.truncate(100)
            failed += not refused(other, f"{name}: a truncated checkpoint")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
