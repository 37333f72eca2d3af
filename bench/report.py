#!/usr/bin/env python3
"""The benchmark's machine record and its table (standard library only).

    bench/report.py machine OUT.json "THREADS_LIST" REPS
        the machine line's facts, taken when the run starts: CPU model, the
        ISA flags that matter, cores, date, load, the commit measured
    bench/report.py table RESULTS.jsonl MACHINE.json T5_CONFIG.json OUT.md [LLAMA_CONFIG.json]
        the Markdown table of a run's measurements (bench/measure.py's
        records), with the ratios and the targets, printed and written
    bench/report.py serve SERVE.jsonl
        the serving section (bench/serve_bench.c's records), printed

Ratios are speed ratios, above 1 when elang is faster: throughputs elang /
peer, latencies peer / elang. A figure that other processes took CPU time
from even after the retries (bench/measure.py) is marked with a dagger.
"""
import datetime
import json
import os
import subprocess
import sys

FLAGS = ["avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8"]
DTYPES = ["f32", "bf16", "int8"]
DISTURBED = float(os.environ.get("DISTURBED", "0.25"))


def command_output(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine(out, threads, reps):
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and "cpu" not in info:
                info["cpu"] = value.strip()
            if key == "flags" and "flags" not in info:
                have = set(value.split())
                info["flags"] = {flag: flag in have for flag in FLAGS}
    info["cores"] = os.cpu_count()
    info["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    with open("/proc/loadavg") as f:
        info["load_at_start"] = f.read().split()[:3]
    info["threads"] = [int(t) for t in threads.split()]
    info["reps"] = int(reps)
    # ELANG_COMMIT: for a run from an exported tree (git archive), which has no .git.
    info["commit"] = os.environ.get("ELANG_COMMIT") or command_output(["git", "rev-parse", "--short", "HEAD"])
    changed = command_output(["git", "status", "--porcelain", "--", "src", "include", "Makefile"])
    info["uncommitted_library_changes"] = len(changed.splitlines())
    info["gcc"] = command_output(["gcc", "-dumpfullversion"])
    info["libdnnl"] = command_output(["dpkg-query", "-W", "-f", "${Version}", "libdnnl2"])
    info["openblas"] = command_output(["dpkg-query", "-W", "-f", "${Version}", "libopenblas0-openmp"])
    info["node"] = command_output(["node", "--version"])
    with open(out, "w") as f:
        json.dump(info, f, indent=1)


# ------------------------------------------------------------------- table


def fmt(x, digits=3):
    """x to `digits` significant figures, without exponent notation."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    mag = len(str(int(abs(x)))) if abs(x) >= 1 else 0
    return f"{x:.{max(0, digits - mag)}f}"


def ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def mark(record):
    return " †" if record and record.get("disturbed") else ""


class Results:
    def __init__(self, path):
        with open(path) as f:
            self.records = [json.loads(line) for line in f if line.strip()]

    def find(self, row, engine=None, dtype=None, threads=None, **more):
        """The last matching record: a row measured again (APPEND=1) replaces
        the earlier figure."""
        for r in reversed(self.records):
            if r.get("row") != row:
                continue
            if engine and r.get("engine") != engine or dtype and r.get("dtype") != dtype:
                continue
            if threads is not None and r.get("threads") != threads:
                continue
            if all(r.get(k) == v for k, v in more.items()):
                return r
        return None

    def current(self):
        """The records the table uses: the last of each measurement."""
        last = {}
        for r in self.records:
            if "others_cores" in r:
                key = (r.get("row"), r.get("engine"), r.get("dtype"), r.get("threads"), r.get("pair"))
                last[key] = r
        return list(last.values())

    def notes(self):
        return {r["key"]: r["value"] for r in self.records if r.get("row") == "note"}


class Table:
    def __init__(self, results, info, t5_config, llama_config=None):
        self.r, self.info, self.t5, self.llama = results, info, t5_config, llama_config
        # The thread counts measured (an APPEND=1 run may have added some).
        self.threads = sorted({r["threads"] for r in results.records if isinstance(r.get("threads"), int)})
        self.lines, self.targets = [], []

    def add(self, *lines):
        self.lines.extend(lines)

    def target(self, text, value, met):
        self.targets.append(f"- {'met' if met else '**NOT MET**'}: {text}: {value}")

    # --------------------------------------------------------- the peaks
    def gemm_peak(self, dtype, t):
        g = self.r.find("gemm", threads=t)
        return max(g[dtype].values()) if g else None

    # A BERT-base layer's products, K x N: the fused Q, K, V projection,
    # the attention output, the feed-forward up and down.
    LAYER_SHAPES = {"bert_4096x768x2304": 768 * 2304, "bert_4096x768x768": 768 * 768,
                    "bert_4096x768x3072": 768 * 3072, "bert_4096x3072x768": 3072 * 768}

    def layer_peak(self, dtype, t):
        """The rate a BERT-base layer's products reach at batch 32 x 128
        when each runs at its own measured peak: FLOPs over the sum of the
        times (a FLOP-weighted harmonic mean); None if not measured."""
        g = self.r.find("gemm", threads=t)
        if not g or any(s not in g[dtype] for s in self.LAYER_SHAPES):
            return None
        flops = sum(self.LAYER_SHAPES.values())
        return flops / sum(w / g[dtype][s] for s, w in self.LAYER_SHAPES.items())

    def peaks(self):
        if not self.r.find("gemm"):
            return
        isa = self.r.find("gemm")["isa"]
        self.add("### Measured peaks", "",
                 f"oneDNN {self.info['libdnnl']} matmul (ISA {isa}; weights pre-packed; F32 and BF16 give F32, "
                 "INT8 is s8×s8→s32), GFLOP/s, median of 7 runs of ≥0.2 s; read bandwidth: 1 GiB summed by "
                 "every thread, median of 9 passes.", "",
                 "| | " + " | ".join(f"{t} thread{'s' * (t > 1)}" for t in self.threads) + " |",
                 "|---|" + "---:|" * len(self.threads))
        shapes = list(self.r.find("gemm")["f32"])
        for dt in DTYPES:
            for s in shapes:
                cells = [self.r.find("gemm", threads=t) for t in self.threads]
                label = s.replace("square_", "square ").replace("bert_", "").replace("x", "×")
                self.add(f"| {dt.upper()} {label} | " + " | ".join(
                    (fmt(c[dt][s], 4) + mark(c)) if c else "–" for c in cells) + " |")
        cells = [self.r.find("membw", threads=t) for t in self.threads]
        self.add("| memory read bandwidth, GB/s | " + " | ".join(
            (fmt(c["gb_s"]) + mark(c)) if c else "–" for c in cells) + " |", "")

    # --------------------------------------------------------- BERT and T5
    def engines(self, row):
        """(engine, dtype) pairs measured in a row, elang first."""
        seen = []
        for r in self.r.records:
            if r.get("row") == row and (r["engine"], r["dtype"]) not in seen:
                seen.append((r["engine"], r["dtype"]))
        order = {"elang": 0, "torch": 1, "onnxruntime": 2, "llamacpp": 3}
        return sorted(seen, key=lambda e: (order[e[0]], DTYPES.index(e[1])))

    @staticmethod
    def value(rec, kind):
        if rec is None:
            return None
        return {"latency": rec.get("latency_ms"), "tokens": rec.get("tokens_per_s"),
                "prompt": rec.get("prompt_tokens_per_s"),
                "decode": rec.get("decode_tokens_per_s")}.get(kind, rec.get("inputs_per_s"))

    def speed_ratio(self, row, kind, t, engine, dtype):
        """elang over the engine in the same dtype; for elang's own BF16 and
        INT8, over elang F32. None when either figure is missing."""
        if engine == "elang":
            if dtype == "f32":
                return None
            fast, slow = self.r.find(row, "elang", dtype, t), self.r.find(row, "elang", "f32", t)
        else:
            fast, slow = self.r.find(row, "elang", dtype, t), self.r.find(row, engine, dtype, t)
        a, b = self.value(fast, kind), self.value(slow, kind)
        if a is None or b is None:
            return None
        return b / a if kind == "latency" else a / b

    def workload(self, row, title, kind, unit):
        if not self.r.find(row):
            return
        names = self.NAMES
        T = self.threads
        head = (["engine"] + [f"{unit}, {t}T" for t in T] + [f"ratio {t}T" for t in T]
                + [f"GFLOP/s {t}T (% of peak)" for t in T] + [f"peak RSS MB, {t}T" for t in T] + ["check"])
        first = self.r.find(row, "elang", "f32")
        if first and "tokens" in first and "source_tokens" not in first:
            title += f" ({first['inputs']} inputs, {first['tokens']:,} tokens)"
        self.add(f"### {title}", "", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|")
        for engine, dt in self.engines(row):
            recs = [self.r.find(row, engine, dt, t) for t in T]
            cells = [names[engine] + " " + dt.upper()]
            cells += [(fmt(self.value(rec, kind)) + mark(rec)) if rec else "–" for rec in recs]
            cells += [ratio(self.speed_ratio(row, kind, t, engine, dt)) for t in T]
            for t, rec in zip(T, recs):
                peak = self.gemm_peak(dt, t)
                if engine == "elang" and rec and "gflops" in rec:
                    share = f" ({100 * rec['gflops'] / peak:.0f}%)" if peak else ""
                    cells.append(fmt(rec["gflops"]) + share)
                else:
                    cells.append("")
            cells += [fmt(rec["peak_rss_mb"], 4) if rec else "–" for rec in recs]
            cells.append(self.check(recs))
            self.add("| " + " | ".join(cells) + " |")
        self.add("")

    NAMES = {"elang": "elang", "torch": "PyTorch", "onnxruntime": "ONNX Runtime", "llamacpp": "llama.cpp"}

    def llm_workload(self, row, title):
        """A decoder-only row: prompt processing and decoding tokens/s side by
        side (bench_generate's split, which every engine's script derives
        the same way), with elang's ratios over each peer on both."""
        if not self.r.find(row):
            return
        T = self.threads
        head = (["engine"] + [f"prompt tok/s, {t}T" for t in T] + [f"decode tok/s, {t}T" for t in T]
                + [f"prompt ratio {t}T" for t in T] + [f"decode ratio {t}T" for t in T]
                + [f"peak RSS MB, {t}T" for t in T] + ["check"])
        first = self.r.find(row, "elang", "f32")
        if first:
            title += (f" ({first['inputs']} prompts of {first['source_tokens'] // first['inputs']} tokens, "
                      f"{first['tokens'] // first['inputs']} new tokens each)")
        self.add(f"### {title}", "", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|")
        for engine, dt in self.engines(row):
            recs = [self.r.find(row, engine, dt, t) for t in T]
            cells = [self.NAMES[engine] + " " + dt.upper()]
            for kind in ("prompt", "decode"):
                cells += [(fmt(self.value(rec, kind)) + mark(rec)) if rec else "–" for rec in recs]
            for kind in ("prompt", "decode"):
                cells += [ratio(self.speed_ratio(row, kind, t, engine, dt)) for t in T]
            cells += [fmt(rec["peak_rss_mb"], 4) if rec else "–" for rec in recs]
            cells.append(self.check(recs))
            self.add("| " + " | ".join(cells) + " |")
        self.add("")

    def llm_bytes_per_step(self, dtype):
        """Weights a batch-1 decoding step reads: every layer's, and the tied
        embedding once, as the output layer, which INT8 models keep in BF16
        (seq2seq_head_dtype, used by src/models/causal.c too)."""
        c = self.llama
        h, kv = c["hidden_size"], c["num_key_value_heads"] * c["head_dim"]
        layer = 2 * h * h + 2 * h * kv + 3 * h * c["intermediate_size"]
        size = {"f32": 4, "bf16": 2, "int8": 1}
        head = {"f32": 4, "bf16": 2, "int8": 2}
        return c["num_hidden_layers"] * layer * size[dtype] + c["vocab_size"] * h * head[dtype]

    def llm_bandwidth(self):
        """Batch-1 decoding reads every weight once a step: bytes per step ×
        steps/s against the measured read bandwidth."""
        if not self.r.find("llamab1") or not self.r.find("membw") or not self.llama:
            return
        self.add("Memory bandwidth of batch-1 decoding (the weights a step reads × decoded tokens/s, against the "
                 "measured read bandwidth):", "")
        for t in self.threads:
            bw = self.r.find("membw", threads=t)
            parts = []
            for engine, dt in self.engines("llamab1"):
                rec = self.r.find("llamab1", engine, dt, t)
                if rec and bw and rec.get("decode_tokens_per_s"):
                    gbs = self.llm_bytes_per_step(dt) * rec["decode_tokens_per_s"] / 1e9
                    parts.append(f"{self.NAMES[engine]} {dt.upper()} {gbs:.1f} GB/s = {100 * gbs / bw['gb_s']:.0f}%")
            if parts:
                self.add(f"- {t} thread{'s' * (t > 1)} (measured {bw['gb_s']:.1f} GB/s; "
                         f"{self.llm_bytes_per_step('f32') / 1e6:.0f} MB a step in F32): " + "; ".join(parts))
        self.add("")

    @staticmethod
    def check(recs):
        recs = [r for r in recs if r]
        if not recs:
            return ""
        r = recs[0]
        if "max_logit_diff_vs_elang_f32" in r:
            return "max abs logit diff vs elang F32: " + ", ".join(f"{x['max_logit_diff_vs_elang_f32']:.1e}" for x in recs)
        if "same_ids_as_elang" in r:
            return "ids = elang F32's: " + ", ".join(f"{x['same_ids_as_elang']}/{x['inputs']}" for x in recs)
        if "min_tokens" in r:
            return f"{r['inputs']} inputs, {r['tokens']} tokens ({r['min_tokens']}–{r['max_tokens']} each)"
        if "min_new_tokens" in r:
            return f"{r['inputs']} inputs, {r['tokens']} tokens generated ({r['min_new_tokens']}–{r['max_new_tokens']} each)"
        return ""

    def t5_bytes_per_step(self, dtype):
        """Weights a decoder step reads at batch 1: each decoder layer's
        self-attention (q, k, v, o), cross-attention q and o (its k and v
        act on the encoder output once per input), the feed-forward, and
        the tied output layer over the whole vocabulary, which INT8 models
        keep in BF16 (seq2seq_head_dtype, src/models/seq2seq_run.c)."""
        c = self.t5
        d, inner, ff = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"]
        layers = c["num_decoder_layers"] * (4 * d * inner + 2 * d * inner + 2 * d * ff)
        size = {"f32": 4, "bf16": 2, "int8": 1}
        head = {"f32": 4, "bf16": 2, "int8": 2}
        return layers * size[dtype] + c["vocab_size"] * d * head[dtype]

    def bandwidth(self):
        if not self.r.find("t5b1") or not self.r.find("membw"):
            return
        self.add("Memory bandwidth at batch 1 (weights read per decoder step × steps/s, against the measured "
                 "read bandwidth; the step time includes the encoder and the cross-attention keys and values, "
                 "so this is a lower bound):", "")
        for t in self.threads:
            bw = self.r.find("membw", threads=t)
            parts = []
            for dt in DTYPES:
                rec = self.r.find("t5b1", "elang", dt, t)
                if rec and bw:
                    gbs = self.t5_bytes_per_step(dt) * rec["tokens_per_s"] / 1e9
                    parts.append(f"{dt.upper()} {self.t5_bytes_per_step(dt) / 1e6:.0f} MB/step → {gbs:.1f} GB/s "
                                 f"= {100 * gbs / bw['gb_s']:.0f}%")
            if parts:
                self.add(f"- {t} thread{'s' * (t > 1)} (measured {bw['gb_s']:.1f} GB/s): " + "; ".join(parts))
        self.add("")

    # --------------------------------------------------------- demo pairs
    def demo_records(self):
        """The last record of each pair, dtype and thread count, in run order."""
        last = {}
        for r in self.r.records:
            if r.get("row") == "demo":
                last.pop((r["pair"], r["dtype"], r["threads"]), None)
                last[(r["pair"], r["dtype"], r["threads"])] = r
        return list(last.values())

    def demo(self):
        recs = self.demo_records()
        if not recs:
            return
        self.add(f"### Demo pairs end to end (`elang demo --data`, median of {recs[0]['reps']} runs)", "",
                 "| pair | dtype | threads | Swift ms | Super ms | E-LANG ms | Swift speed-up FLOPs / time (time ÷ FLOPs) "
                 "| E-LANG speed-up FLOPs / time (time ÷ FLOPs) | Swift ≥ 70% | E-LANG within 15% |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---|---|")
        for r in recs:
            self.add(f"| {r['pair']} | {r['dtype'].upper()} | {r['threads']} | {fmt(r['swift_ms'])}{mark(r)} | "
                     f"{fmt(r['super_ms'])} | {fmt(r['elang_ms'])} | {r['swift_speedup_flops']:.2f}× / "
                     f"{r['swift_speedup_time']:.2f}× ({100 * r['swift_time_share_of_flops']:.0f}%) | "
                     f"{r['elang_speedup_flops']:.2f}× / {r['elang_speedup_time']:.2f}× "
                     f"({100 * r['elang_time_over_flops']:.0f}%) | {'yes' if r['check_swift'] else 'no'} | "
                     f"{'yes' if r['check_elang'] else 'no'} |")
        self.add("")

    # --------------------------------------------------------- targets
    def targets_section(self):
        f = self.r.find
        bert_rows = [("sst2", "SST-2 b32", "inputs"), ("lat128", "128 tok b1", "latency"), ("b128", "128 tok b32", "inputs")]
        for t in self.threads:
            for peer, name, want in (("torch", "PyTorch", 1.15), ("onnxruntime", "ONNX Runtime", 1.0)):
                vals = [(label, self.speed_ratio(row, kind, t, peer, "f32")) for row, label, kind in bert_rows]
                vals = [(label, v) for label, v in vals if v is not None]
                if vals:
                    self.target(f"F32 ≥ {want}× {name} on every BERT-base row, {t}T",
                                ", ".join(f"{label} {v:.2f}×" for label, v in vals), all(v >= want for _, v in vals))
            rec, peak = f("b128", "elang", "f32", t), self.gemm_peak("f32", t)
            if rec and peak:
                layer = self.layer_peak("f32", t)
                within = (f"; the layer's own products, each at its measured peak, reach {layer:.0f} GFLOP/s: "
                          f"elang is at {100 * rec['gflops'] / layer:.0f}% of that") if layer else ""
                self.target(f"F32 ≥ 85% of the measured F32 GEMM peak at batch 32 × 128, {t}T",
                            f"{rec['gflops']:.0f} of {peak:.0f} GFLOP/s = {100 * rec['gflops'] / peak:.0f}%{within}",
                            rec["gflops"] >= 0.85 * peak)
            e, p = f("lat128", "elang", "f32", t), f("lat128", "torch", "f32", t)
            if e and p:
                x = e["latency_ms"] / p["latency_ms"]
                self.target(f"F32 batch 1 × 128 latency ≤ 0.8× PyTorch's, {t}T",
                            f"{e['latency_ms']:.1f} ms vs {p['latency_ms']:.1f} ms = {x:.2f}×", x <= 0.8)
            for dt, want in (("bf16", 1.8), ("int8", 2.5)):
                vals = [(label, self.speed_ratio(row, kind, t, "elang", dt)) for row, label, kind in bert_rows]
                vals = [(label, v) for label, v in vals if v is not None]
                if vals:
                    self.target(f"{dt.upper()} ≥ {want}× elang F32 on every BERT-base row, {t}T",
                                ", ".join(f"{label} {v:.2f}×" for label, v in vals), all(v >= want for _, v in vals))
            for row, label in (("t5b1", "batch 1"), ("t5b16", "batch 16")):
                v = self.speed_ratio(row, "tokens", t, "torch", "f32")
                if v is not None:
                    self.target(f"T5-small F32 ≥ 2× PyTorch F32 tokens/s at {label}, {t}T", f"{v:.2f}×", v >= 2)
            p = f("t5b1", "torch", "f32", t)
            if p:
                vals = [(dt, f("t5b1", "elang", dt, t)) for dt in ("bf16", "int8")]
                vals = [(dt, r["tokens_per_s"] / p["tokens_per_s"]) for dt, r in vals if r]
                if vals:
                    self.target(f"T5-small ≥ 3× PyTorch F32 tokens/s at batch 1 in BF16 or INT8, {t}T",
                                ", ".join(f"{dt.upper()} {v:.2f}×" for dt, v in vals), max(v for _, v in vals) >= 3)
        for t in self.threads:
            for dt in ("f32", "bf16"):
                for row, label in (("llamab1", "batch 1"), ("llamab8", "batch 8")):
                    v = self.speed_ratio(row, "decode", t, "torch", dt)
                    if v is not None:
                        self.target(f"Llama {dt.upper()} decoding ≥ 2× PyTorch at {label}, {t}T", f"{v:.2f}×", v >= 2)
                v = self.speed_ratio("llamab1", "decode", t, "llamacpp", dt)
                if v is not None:
                    self.target(f"Llama {dt.upper()} decoding within 1.2× of llama.cpp at batch 1 (≥ 0.83×), {t}T",
                                f"{v:.2f}×", v >= 1 / 1.2)
                v = self.speed_ratio("llamab8", "decode", t, "llamacpp", dt)
                if v is not None:
                    self.target(f"Llama {dt.upper()} decoding ahead of llama.cpp at batch 8, {t}T", f"{v:.2f}×", v > 1)
        for r in self.demo_records():
            where = f"{r['pair']} {r['dtype'].upper()} {r['threads']}T"
            self.target(f"time follows FLOPs, Swift's time speed-up ≥ 70% of its FLOPs speed-up, {where}",
                        f"{r['swift_speedup_time']:.2f}× of {r['swift_speedup_flops']:.2f}× = "
                        f"{100 * r['swift_time_share_of_flops']:.0f}%", r["check_swift"])
            self.target(f"time follows FLOPs, E-LANG's time speed-up within 15% of its FLOPs speed-up, {where}",
                        f"{r['elang_speedup_time']:.2f}× vs {r['elang_speedup_flops']:.2f}× = "
                        f"{100 * r['elang_time_over_flops']:.0f}%", r["check_elang"])
        if self.targets:
            self.add("### Targets", "", *self.targets, "")

    def render(self):
        i = self.info
        flags = ", ".join(k if v else f"no {k}" for k, v in i["flags"].items())
        with open("/proc/loadavg") as fl:
            load_end = fl.read().split()[:3]
        used = self.r.current()
        disturbed = [r for r in used if r.get("disturbed")]
        worst = max((r.get("others_cores", 0) for r in used), default=0)
        torch_env = next((r["env"] for r in self.r.records if r.get("engine") == "torch"), None)
        ort = next((r["onnxruntime"] for r in self.r.records if r.get("engine") == "onnxruntime"), None)
        torch_version = next((r["torch"] for r in self.r.records if r.get("engine") == "torch"), None)
        llamacpp = next((r for r in self.r.records if r.get("engine") == "llamacpp"), None)
        self.add(f"## elang benchmark, {i['date']}", "",
                 f"**Machine:** {i['cpu']}, {i['cores']} cores ({flags}); threads {', '.join(map(str, self.threads))}; "
                 f"medians of {i['reps']} runs; elang {i['commit']}"
                 + (f" + {i['uncommitted_library_changes']} uncommitted library files" if i["uncommitted_library_changes"] else "")
                 + f", gcc {i['gcc']}, oneDNN {i['libdnnl']}"
                 + (f"; PyTorch {torch_version} (OpenBLAS {i['openblas']}, env {' '.join(f'{k}={v}' for k, v in torch_env.items())})" if torch_env else "")
                 + (f"; onnxruntime-node {ort} (node {i['node']})" if ort else "")
                 + (f"; llama.cpp {llamacpp['llamacpp']} (node-llama-cpp {llamacpp['node_llama_cpp']}, "
                    f"{llamacpp['build']} {llamacpp['ggml_cpu']} ggml CPU backend)" if llamacpp else "") + ".",
                 "",
                 f"**Load:** load average {' '.join(i['load_at_start'])} at the start, {' '.join(load_end)} at the end; "
                 f"other processes used at most {worst:.2f} cores during a measurement; "
                 + (f"{len(disturbed)} figure(s) lost CPU time to them even after retries (marked †: the others "
                    f"used more than the cores the measurement left free + {DISTURBED})."
                    if disturbed else f"no figure lost CPU time to them (others within the free cores + {DISTURBED})."),
                 "")
        for key, value in self.r.notes().items():
            self.add(f"**{key}:** {value}", "")
        self.peaks()
        self.add("Ratios: elang ÷ the peer in the same dtype (PyTorch BF16 is torch.autocast, PyTorch INT8 is "
                 "quantize_dynamic); on elang's BF16 and INT8 lines, over elang F32. Above 1 = elang faster.", "")
        self.workload("sst2", "BERT-base, SST-2 dev sentences, batch 32", "inputs", "sentences/s")
        self.workload("lat128", "BERT-base, 128 tokens, batch 1 (median latency of single-input calls)", "latency", "ms")
        self.workload("b128", "BERT-base, 128 tokens, batch 32", "inputs", "sentences/s")
        self.workload("t5b1", "T5-small greedy, 64 new tokens, batch 1", "tokens", "tokens/s")
        self.bandwidth()
        self.workload("t5b16", "T5-small greedy, 64 new tokens, batch 16", "tokens", "tokens/s")
        self.llm_workload("llamab1", "Llama ~100M, greedy, batch 1")
        self.llm_bandwidth()
        self.llm_workload("llamab8", "Llama ~100M, greedy, batch 8")
        self.demo()
        self.targets_section()
        return "\n".join(self.lines)


# ------------------------------------------------------------ serving
# bench/serve_bench.c's records: elang serve against the CLI and the
# library on the SST-2 demo pair, one table per thread count and flags.


def serve_section(path):
    with open(path) as f:
        records = [json.loads(line) for line in f if line.startswith("{")]
    lines = ["## Serving: `elang serve`, SST-2 demo pair", ""]
    groups = {}
    for r in records:
        groups.setdefault((r["threads"], r["model_flags"], r["serve_flags"]), []).append(r)
    for (threads, model_flags, serve_flags), recs in groups.items():
        lib = next(r for r in recs if r["what"] == "library")
        cli = next(r for r in recs if r["what"] == "cli")
        servers = [r for r in recs if r["what"] == "server"]
        flags = " ".join(f for f in (model_flags, serve_flags) if f) or "default flags"
        lines += ["%d model thread(s), %s: the library %.2f ms per input alone; the CLI %.0f inputs/s over %d "
                  "inputs; each row %d single-input /v1/route requests, median of %d rounds" %
                  (threads, flags, lib["latency_ms"], cli["inputs_per_s"], cli["inputs"], servers[0]["requests"],
                   servers[0]["reps"]), "",
                  "| clients | requests/s | of the CLI's inputs/s | p50 ms | p99 ms |", "|---:|---:|---:|---:|---:|"]
        for r in servers:
            lines.append("| %d | %.0f | %.0f%% | %.2f | %.2f |" %
                         (r["clients"], r["requests_per_s"], 100 * r["of_cli"], r["p50_ms"], r["p99_ms"]))
        for r in servers:
            if r["clients"] == 64:
                lines.append("\ntarget: at 64 clients >= 80%% of the CLI's throughput: %.0f%% (%s)" %
                             (100 * r["of_cli"], "met" if r["of_cli"] >= 0.8 else "not met"))
            if r["clients"] == 1:
                added = r["p50_ms"] - lib["latency_ms"]
                lines.append("\ntarget: at 1 client <= 2 ms over the library: %+.2f ms (%s)" %
                             (added, "met" if added <= 2 else "not met"))
        lines.append("")
    return "\n".join(lines)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        print(serve_section(sys.argv[2]))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "machine":
        machine(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "table":
        with open(sys.argv[3]) as f:
            info = json.load(f)
        with open(sys.argv[4]) as f:
            t5 = json.load(f)
        llama = None
        if len(sys.argv) == 7 and os.path.exists(sys.argv[6]):
            with open(sys.argv[6]) as f:
                llama = json.load(f)
        text = Table(Results(sys.argv[2]), info, t5, llama).render()
        with open(sys.argv[5], "w") as f:
            f.write(text + "\n")
        print(text)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
