"""Shared by the demo-model training scripts: determinism, safetensors
reading and writing (stdlib + the tensors' own bytes), F16 rounding, learning
rate schedule, the training loop, logging and model-card helpers.

Nothing here imports transformers or the safetensors package; the file
format is written from its specification: an 8-byte little-endian header
length, a JSON header mapping each tensor name to its dtype, shape and byte
range in the data section, then the raw little-endian tensor bytes.
"""

import copy
import datetime
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch

DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


def set_determinism(seed):
    """Seeds Python, NumPy and PyTorch, and keeps PyTorch to one thread and
    deterministic kernels, so a rerun gives the same weights bit for bit."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def write_safetensors(path, tensors, dtype="F16"):
    """Writes {name: tensor} to `path`, every tensor converted to `dtype`,
    stored back to back in the order given, the header padded with spaces to
    a multiple of 8 bytes. Written to path.partial first, then renamed."""
    torch_dtype = DTYPES[dtype]
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        t = tensor.detach().to(torch_dtype).contiguous()
        if dtype == "F16" and not torch.isfinite(t).all():
            raise ValueError(f"{name} does not fit in F16")
        # NumPy has no bfloat16: reinterpret the 16-bit patterns as int16.
        raw = (t.view(torch.int16) if dtype == "BF16" else t).numpy().astype(
            "<i2" if dtype == "BF16" else ("<f2" if dtype == "F16" else "<f4")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(path + ".partial", path)


def read_safetensors(path):
    """{name: F32 tensor} of the F16, BF16 and F32 tensors of a safetensors
    file, in the file's order (other dtypes, such as a checkpoint's I64
    position_ids buffer, are left out)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in DTYPES:
            continue
        start, end = info["data_offsets"]
        raw = bytearray(data[start:end])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).float()
    return out


def round_to(state_dict, dtype="F16"):
    """The state dict as `dtype` would store it, back in F32: what a model
    loaded from the written file computes with."""
    return {k: v.detach().to(DTYPES[dtype]).float() for k, v in state_dict.items()}


def linear_warmup_decay(optimizer, warmup_steps, total_steps):
    """Learning rate rising linearly from 0 over warmup_steps, then falling
    linearly to 0 at total_steps."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def decay_groups(model, weight_decay):
    """AdamW parameter groups: weight decay on the matrices (embeddings
    included), none on biases and norm weights, as BERT's recipe does."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.dim() < 2 or "norm" in name.lower() else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def relative_groups(model, lr, weight_decay):
    """AdamW parameter groups, one per parameter, whose learning rate is lr
    times the parameter's root mean square when this is called (at
    initialisation, or after a pre-training; at least 1e-3), so that each step changes every parameter by about the same
    fraction of its size, as Adafactor's relative steps (which T5 was
    designed for) do. Without it a T5's N(0, 1) embedding, which is also its
    output layer, learns ~30 times slower relative to its size than the
    other matrices. Weight decay on matrices only."""
    groups = []
    for name, p in model.named_parameters():
        rms = max(p.detach().pow(2).mean().sqrt().item(), 1e-3)
        decay = weight_decay if p.dim() >= 2 and "norm" not in name.lower() else 0.0
        groups.append({"params": [p], "lr": lr * rms, "weight_decay": decay})
    return groups


def count_parameters(state_dict):
    """Parameters stored (tied matrices counted once)."""
    return sum(t.numel() for t in state_dict.values())


class Log:
    """Prints to stdout with the elapsed time, flushing at once (the scripts
    run under nohup and are followed with tail -f)."""

    def __init__(self):
        self.start = time.time()

    def __call__(self, message):
        minutes = (time.time() - self.start) / 60
        print(f"[{minutes:7.2f} min] {message}", flush=True)

    def minutes(self):
        return (time.time() - self.start) / 60


def today():
    return datetime.date.today().isoformat()


# Options that say only where a run writes its models: a card's command
# leaves them out, since the weights do not depend on them and a path of the
# machine that trained would mislead whoever reruns it from the repository.
OUTPUT_OPTIONS = ("--models", "--out")


def command_line():
    """The command that ran this script, for the model card."""
    args, rest = [], sys.argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg in OUTPUT_OPTIONS:
            rest = rest[1:]
        elif not arg.startswith(tuple(option + "=" for option in OUTPUT_OPTIONS)):
            args.append(arg)
    return "/usr/bin/python3 " + " ".join([os.path.relpath(sys.argv[0])] + args)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def add_training_arguments(parser, sizes, data, batch_size):
    """The command-line flags both training scripts take."""
    parser.add_argument("--size", choices=sizes, required=True)
    parser.add_argument("--data", default=data)
    parser.add_argument("--out", help="model directory (default models/TASK-SIZE)")
    parser.add_argument("--epochs", type=int, help="default: the size's")
    parser.add_argument("--lr", type=float, help="default: the size's")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)


def start_training(args, sizes, task):
    """Fills --epochs and --lr from the size's settings, creates the output
    directory and seeds everything; returns (the size's settings, the
    output directory, a Log)."""
    size = sizes[args.size]
    args.epochs = args.epochs or size["epochs"]
    args.lr = args.lr or size["lr"]
    out = args.out or f"models/{task}-{args.size}"
    os.makedirs(out, exist_ok=True)
    log = Log()
    set_determinism(args.seed)
    return size, out, log


def pad(rows, value=0):
    """[len(rows), longest] tensor of the id lists, padded with value, and
    the attention mask (1 on the ids, 0 on the padding)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), value, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def length_batches(lengths, batch_size, rng):
    """One epoch of batches of example indices: shuffled, sorted by length
    (any sortable key) within windows of 50 batches so that little padding
    is computed, then the batches shuffled so the lengths still mix."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = 50 * batch_size
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def read_generated(path, count, what):
    """The "text" of every line of `elang generate`'s JSON-lines output at
    path, which must hold one per source (count of them); a malformed line,
    a missing "text" or another count stops the script with a message
    naming the file, the line and `what` the texts are."""
    texts = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            try:
                text = json.loads(line)["text"]
            except (json.JSONDecodeError, TypeError, KeyError):
                text = None
            if not isinstance(text, str):
                raise SystemExit(f"{path} line {n}: expected a JSON object with a string \"text\" "
                                 "(elang generate's output)")
            texts.append(text)
    if len(texts) != count:
        raise SystemExit(f"{path}: {len(texts)} {what} for {count} sources")
    return texts


def optimizer_step(optimizer, schedule, model, loss):
    """One step on loss: gradients clipped to norm 1, then the optimizer and
    the learning-rate schedule."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()


def fit(model, optimizer, schedule, epochs, batches, batch_loss, evaluate, log, log_every):
    """The training loop of both scripts. Every epoch: one pass over
    batches() with batch_loss(batch) minimised (gradients clipped to norm
    1.0, the schedule stepped per batch), then evaluate(), which returns
    (selection metric, text for the log). Returns (state dict of the epoch
    with the highest metric, the earliest on a tie; that epoch; every
    epoch's metric)."""
    best, best_epoch, history = None, 0, []
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_batches = batches()
        loss_sum = 0.0
        for step, batch in enumerate(epoch_batches, start=1):
            loss = batch_loss(batch)
            optimizer_step(optimizer, schedule, model, loss)
            loss_sum += loss.item()
            if step % log_every == 0:
                log(f"epoch {epoch} step {step}/{len(epoch_batches)} loss {loss_sum / step:.4f}")
        metric, summary = evaluate()
        history.append(metric)
        log(f"epoch {epoch}: train loss {loss_sum / len(epoch_batches):.4f}, {summary}")
        if best is None or metric > max(history[:-1]):
            best, best_epoch = copy.deepcopy(model.state_dict()), epoch
    return best, best_epoch, history


class EpochCheckpoint:
    """A long loop's state saved after every epoch, so that a run stopped
    part-way (a session's end, a restart of the machine) goes on from its
    last whole epoch when the same command runs again, with the weights it
    would have had without the stop: the modules', the optimizer's and the
    schedule's states and every random generator the loop draws from (the
    given random.Random, Python's, NumPy's and PyTorch's). A checkpoint
    written with other settings is an error, not a silent fresh start; the
    caller discards the file when the whole run has ended."""

    def __init__(self, path, settings, module, optimizer, schedule, rng):
        self.path, self.settings = path, settings
        self.module, self.optimizer, self.schedule, self.rng = module, optimizer, schedule, rng

    def resume(self, log):
        """Loads the checkpoint if there is one; returns the epochs it holds (0 if none)."""
        if not os.path.exists(self.path):
            return 0
        try:
            state = torch.load(self.path)
        except Exception as e:  # a truncated or foreign file: say which, and how to go on
            raise SystemExit(f"{self.path}: not a readable checkpoint ({e}); remove it to start again")
        if state["settings"] != self.settings:
            raise SystemExit(f"{self.path}: a checkpoint of other settings ({state['settings']}, not "
                             f"{self.settings}); remove it to start again")
        self.module.load_state_dict(state["module"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.rng.setstate(state["rng"])
        random.setstate(state["python"])
        np.random.set_state(state["numpy"])
        torch.set_rng_state(state["torch"])
        log(f"resumed from {self.path} after epoch {state['epoch']}")
        return state["epoch"]

    def save(self, epoch):
        state = {"settings": self.settings, "epoch": epoch, "module": self.module.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
                 "rng": self.rng.getstate(), "python": random.getstate(), "numpy": np.random.get_state(),
                 "torch": torch.get_rng_state()}
        torch.save(state, self.path + ".partial")
        os.replace(self.path + ".partial", self.path)

    @staticmethod
    def discard(path):
        """Removes the checkpoint at path, if any: its run has ended."""
        if os.path.exists(path):
            os.remove(path)


def reproduce_lines():
    """The end of a model card: how to make the model again."""
    return ["Reproduce (from the repository root; see `tools/train/README.md`):", "", "```sh", command_line(),
            "```", ""]


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def load_model(model_class, model_dir):
    """model_class built from model_dir/config.json with the weights of
    model_dir/model.safetensors, in eval mode."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        model = model_class(json.load(f))
    model.load_state_dict(read_safetensors(os.path.join(model_dir, "model.safetensors")))
    return model.eval()


ELANG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "elang")


def check_teacher(model_dirs, files):
    """Stops with a message naming what is missing when a --teacher model
    directory lacks one of the files or elang is not built: checked when the
    run starts, not after an hour of pre-training."""
    for model_dir in model_dirs:
        for name in files:
            if not os.path.isfile(os.path.join(model_dir, name)):
                raise SystemExit(f"--teacher: {os.path.join(model_dir, name)} is missing")
    if not os.access(ELANG, os.X_OK):
        raise SystemExit(f"{os.path.normpath(ELANG)} is missing: build elang first (make); "
                         "it computes the teacher's outputs")


def elang_inputs(rows):
    """The (line, text, pair, label) rows as elang's JSON input objects."""
    return [{"text": text} if pair is None else {"text": text, "text_pair": pair} for _, text, pair, _ in rows]


def run_elang(command, inputs):
    """The JSON result lines of `build/elang COMMAND... --input FILE` on the
    inputs (JSON objects, one a line), in input order. The distillations ask
    elang for their teachers' outputs: Debian's PyTorch multiplies F32 on its
    generic BLAS (a few GFLOP/s), so a teacher's pass over SST-2's 56,000
    phrases would take an hour in PyTorch and takes a minute in elang, with
    the same F32 arithmetic to within float rounding (tests/test_demo_models.c)."""
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as f:
        f.write("".join(json.dumps(x) + "\n" for x in inputs))
        f.flush()
        done = subprocess.run([ELANG] + command + ["--input", f.name, "--output", "-"], capture_output=True,
                              text=True)
    if done.returncode != 0:
        raise SystemExit(f"elang {' '.join(command)} failed (exit {done.returncode}): {done.stderr.strip()}")
    results = [json.loads(line) for line in done.stdout.splitlines()]
    if len(results) != len(inputs):
        raise SystemExit(f"elang {' '.join(command)} answered {len(results)} of {len(inputs)} inputs")
    return results
