#!/usr/bin/env python3
"""Exports the benchmark's BERT classifier to ONNX for the ONNX Runtime peer:
tools/train/bert.py's module with the model directory's F32 weights, traced by
torch.onnx.export (opset 14) with the batch and sequence dimensions dynamic.

    bench/export_onnx.py MODEL_DIR OUT.onnx

Inputs input_ids and attention_mask (int64, [batch, seq]); output logits
([batch, labels], F32). The graph is written as PyTorch traces it: ONNX
Runtime applies its own default graph optimizations when it loads it, as it
does for any user.
"""
import sys
import warnings

import benchlib  # noqa: F401  (puts tools/train on the path)
import torch
from bert import BertForSequenceClassification
from trainutil import load_model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model = load_model(BertForSequenceClassification, sys.argv[1])
    # bert.py divides by math.sqrt(head size) computed from a shape: the
    # tracer warns it becomes a constant, which it is (the head size is 64
    # for every batch and length).
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    ids = torch.randint(1000, 29000, (2, 16))
    mask = torch.ones_like(ids)
    dynamic = {0: "batch", 1: "seq"}
    torch.onnx.export(model, (ids, mask), sys.argv[2], input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=14,
                      dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": {0: "batch"}})


if __name__ == "__main__":
    main()
