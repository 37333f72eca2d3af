#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora from the shared fixtures.

usage: make_seeds.py FIXTURES_DIR OUT_DIR

OUT_DIR/safetensors/: small valid files built from the fixtures' headers,
keeping a few small tensors each (the fixtures themselves are megabytes,
which would only slow the fuzzer down).
OUT_DIR/pickle/: the distilbert checkpoint's data.pkl, plus state dicts
pickled here with protocols 2 and 4 (OrderedDict with _metadata, storage
offsets, a shared storage, half and long storages), written through
stand-in torch globals so that no torch is needed.
OUT_DIR/request/: request bodies in the layouts the server reads (the
first byte picks the layout, as fuzz_request.c reads it), from the
classifier fixtures' texts.
"""
import collections
import json
import os
import pickle
import struct
import sys
import types
import zipfile

fixtures, out = sys.argv[1], sys.argv[2]


def safetensors_seeds():
    os.makedirs(os.path.join(out, "safetensors"), exist_ok=True)
    for model in sorted(os.listdir(fixtures)):
        path = os.path.join(fixtures, model, "model.safetensors")
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            blob = f.read()
        (n,) = struct.unpack_from("<Q", blob)
        header = json.loads(blob[8:8 + n])
        start = 8 + n
        kept, data = {"__metadata__": header.pop("__metadata__", {})}, b""
        small = [k for k, v in header.items() if v["data_offsets"][1] - v["data_offsets"][0] <= 512]
        for name in small[:4]:
            begin, end = header[name]["data_offsets"]
            kept[name] = dict(header[name], data_offsets=[len(data), len(data) + end - begin])
            data += blob[start + begin:start + end]
        text = json.dumps(kept, separators=(",", ":")).encode()
        text += b" " * (-(8 + len(text)) % 8)
        with open(os.path.join(out, "safetensors", model), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)


def install_fake_torch():
    """Modules named like torch's, so that pickle writes the same GLOBALs."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storages = {}
    for name in ("FloatStorage", "HalfStorage", "LongStorage"):
        storages[name] = type(name, (), {"__module__": "torch"})
        setattr(torch, name, storages[name])
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    return _rebuild_tensor_v2, storages


def pickle_seeds():
    os.makedirs(os.path.join(out, "pickle"), exist_ok=True)
    with zipfile.ZipFile(os.path.join(fixtures, "distilbert", "pytorch_model.bin")) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        with open(os.path.join(out, "pickle", "distilbert"), "wb") as f:
            f.write(z.read(name))

    rebuild, storage_types = install_fake_torch()

    class Storage:
        def __init__(self, type_name, key, numel):
            self.type, self.key, self.numel = storage_types[type_name], key, numel

    class Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return rebuild, self.args

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", obj.type, obj.key, "cpu", obj.numel)
            return None

    shared = Storage("FloatStorage", "0", 12)
    state = collections.OrderedDict()
    state["encoder.weight"] = Tensor(shared, 0, (2, 3), (3, 1))
    state["encoder.bias"] = Tensor(shared, 6, (3,), (1,))
    state["half"] = Tensor(Storage("HalfStorage", "1", 4), 0, (4,), (1,))
    state["position_ids"] = Tensor(Storage("LongStorage", "2", 8), 0, (1, 8), (8, 1))
    state["scalar"] = Tensor(shared, 11, (), ())
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("encoder", {"version": 1})])
    for protocol in (2, 4):
        with open(os.path.join(out, "pickle", "protocol%d" % protocol), "wb") as f:
            Pickler(f, protocol=protocol).dump(state)


def request_seeds():
    os.makedirs(os.path.join(out, "request"), exist_ok=True)
    with open(os.path.join(fixtures, "bert", "cases.jsonl")) as f:
        texts = [json.loads(line)["text"] for line in f if '"text"' in line][:3]
    v1 = {"inputs": [{"text": t, "id": i} for i, t in enumerate(texts)] + [{"text": "a", "text_pair": "b"}]}
    v2 = {"id": "r", "inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts},
                                {"name": "text_pair", "shape": [len(texts), 1], "datatype": "BYTES",
                                 "data": [[t] for t in texts]}],
          "outputs": [{"name": "label"}, {"name": "logits"}]}
    openai = {"model": "elang", "prompt": texts, "max_tokens": 8, "stop": ["\n", "."], "temperature": 0, "n": 1,
              "stream": False, "logprobs": None}
    for name, layout, body in (("v1", 2, v1), ("v2", 3, v2), ("v1-model", 0, dict(v1, model="swift")),
                               ("openai", 4, openai), ("openai-one", 4, {"prompt": texts[0], "stop": "x"})):
        with open(os.path.join(out, "request", name), "wb") as f:
            f.write(bytes([layout]) + json.dumps(body).encode())


safetensors_seeds()
pickle_seeds()
request_seeds()
