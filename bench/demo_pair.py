#!/usr/bin/env python3
"""Evaluates a demo pair end to end with `elang demo` REPS times and prints
one JSON line of medians: Swift alone, Super alone and E-LANG (ms per input,
as elang measures them while evaluating), their FLOPs and time speed-ups
over Super, and the two checks of "time follows FLOPs":

- Swift's time speed-up over Super is at least 70% of its FLOPs speed-up;
- E-LANG's time speed-up is within 15% of its FLOPs speed-up.

    bench/demo_pair.py ELANG sst2|multi30k DATA_DIR WORK_DIR THREADS DTYPE REPS

Standard library only. Each run's report.json is kept as
WORK_DIR/<run>/<pair>/report.json.
"""
import json
import os
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    elang, pair, data, work, threads, dtype, reps = sys.argv[1:]
    runs = []
    for r in range(int(reps)):
        out = os.path.join(work, f"{pair}-{dtype}-t{threads}-run{r}")
        os.makedirs(out, exist_ok=True)  # elang makes OUT/<pair>, not OUT's parents
        subprocess.run([elang, "demo", "--only", pair, "--data", data, "--report", out, "--dtype", dtype,
                        "--threads", threads], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, pair, "report.json")) as f:
            runs.append(json.load(f))

    def med(get):
        return statistics.median(get(r) for r in runs)

    swift_ms, super_ms, elang_ms = (med(lambda r, k=k: r[k]["ms"]) for k in ("swift", "super", "elang"))
    last = runs[-1]  # FLOPs, metrics and routing are the same in every run
    swift_flops = last["super"]["gflops"] / last["swift"]["gflops"]
    swift_time = med(lambda r: r["super"]["ms"] / r["swift"]["ms"])
    elang_flops = last["elang"]["speedup_flops"]
    elang_time = med(lambda r: r["elang"]["speedup_time"])
    print(json.dumps({
        "engine": "elang", "pair": pair, "dtype": dtype, "threads": int(threads), "reps": len(runs),
        "inputs": last["inputs"], "metric_name": last["elang"]["metric_name"],
        "swift_metric": last["swift"]["metric"], "super_metric": last["super"]["metric"],
        "elang_metric": last["elang"]["metric"], "super_rate": last["elang"]["super_rate"],
        "swift_ms": swift_ms, "super_ms": super_ms, "elang_ms": elang_ms,
        "swift_gflops": last["swift"]["gflops"], "super_gflops": last["super"]["gflops"],
        "elang_gflops": last["elang"]["gflops"],
        "swift_speedup_flops": swift_flops, "swift_speedup_time": swift_time,
        "elang_speedup_flops": elang_flops, "elang_speedup_time": elang_time,
        "swift_time_share_of_flops": swift_time / swift_flops,
        "elang_time_over_flops": elang_time / elang_flops,
        "check_swift": swift_time >= 0.7 * swift_flops,
        "check_elang": abs(elang_time / elang_flops - 1) <= 0.15,
    }))


if __name__ == "__main__":
    main()
