#!/usr/bin/python3
"""Checks the distillation losses of train_glue_bert.py and train_glue_t5.py
(--teacher) on tiny random models: a teacher whose probabilities are one-hot
on the gold labels gives exactly the plain cross-entropy, and another teacher
gives another loss (so the teacher's probabilities are read, and read for
the right examples and label words).
Prints one line per check and exits 1 if any fails.

  /usr/bin/python3 tools/train/check_distillation.py     (seconds)
"""

import runtime

runtime.prepare()  # one thread, malloc settings: before torch is imported

import sys  # noqa: E402

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from t5 import EOS, T5ForConditionalGeneration, t5_config  # noqa: E402
from train_glue_bert import soft_cross_entropy  # noqa: E402
from train_glue_t5 import seq2seq_loss  # noqa: E402

failures = 0


def check(name, ok):
    global failures
    print(("ok   " if ok else "FAIL ") + name)
    failures += not ok


torch.manual_seed(1)
logits = torch.randn(6, 2)
gold = torch.tensor([0, 1, 1, 0, 1, 0])
one_hot = F.one_hot(gold, 2).float()
check("BERT: a one-hot teacher gives the cross-entropy",
      torch.allclose(soft_cross_entropy(logits, one_hot), F.cross_entropy(logits, gold), atol=1e-6))
check("BERT: a uniform teacher gives the mean of -log softmax",
      torch.allclose(soft_cross_entropy(logits, torch.full((6, 2), 0.5)),
                     -F.log_softmax(logits, -1).mean(), atol=1e-6))

model = T5ForConditionalGeneration(t5_config(50, 16, 32, 8, 2, 1, 1, 0.0)).eval()
sources = [[5, 6, 7, EOS], [8, 9, EOS], [11, 12, 13, 14, EOS]]
targets = [[20, EOS], [21, EOS], [21, EOS]]
words = torch.tensor([[20, 21]] * 3)
plain = seq2seq_loss(model, sources, targets)
as_gold = seq2seq_loss(model, sources, targets, (words, torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])))
flipped = seq2seq_loss(model, sources, targets, (words, torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])))
check("T5: a one-hot teacher on the gold label words gives the plain loss", torch.allclose(plain, as_gold, atol=1e-6))
check("T5: a teacher preferring the other words gives another loss", not torch.allclose(plain, flipped, atol=1e-3))
sys.exit(1 if failures else 0)
