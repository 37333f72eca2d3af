#!/usr/bin/env python3
"""Runs one measurement and appends its result to the run's results file,
with how much the rest of the machine was doing meanwhile:

    bench/measure.py RESULTS.jsonl '{"row": "sst2", ...}' -- COMMAND [ARGS...]

COMMAND prints one JSON object as its last line of stdout (bench_classify,
bench_generate, gemm_peak, membw and the peers all do). measure.py adds the
tags given, `others_cores`: the CPU time every other process on the machine
used while COMMAND ran, divided by its wall time (from /proc/stat's busy
time minus COMMAND's own, so it sees processes in other containers too), and
`attempts`. The machine is shared with development. A measurement is
disturbed when the others took CPU time from it: when others_cores is above
the cores its threads left free (the cores minus the "threads" tag; all of
them when there is no tag) plus DISTURBED (default 0.25 of a core). Then it
is repeated, after waiting (up to IDLE_WAIT seconds, default 300) for a
quiet 5 s window, at most RETRIES more times (default 2); the least
disturbed attempt is kept, and the table marks figures that stayed
disturbed. (A process on a core left free still shares the memory bandwidth
and the last-level cache: others_cores is in the results for every figure.)
"""
import json
import os
import resource
import subprocess
import sys
import time


def busy_jiffies():
    """All CPUs' non-idle time since boot, in clock ticks."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


TICK = os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit):
    """Waits until a 5 s window in which the machine used under a tenth of a
    core, or `limit` seconds; returns the seconds waited."""
    start = time.time()
    while time.time() - start < limit:
        b0 = busy_jiffies()
        time.sleep(5)
        if (busy_jiffies() - b0) / TICK / 5 < 0.1:
            break
    return round(time.time() - start)


def children_cpu():
    """CPU seconds of every child reaped so far (Popen reaps its child, and
    the child's threads and its own reaped children count too)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(command):
    """(the command's JSON result, the cores other processes used)"""
    b0, c0, t0 = busy_jiffies(), children_cpu(), time.time()
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    elapsed = time.time() - t0
    others = max(0.0, (busy_jiffies() - b0) / TICK - (children_cpu() - c0)) / elapsed
    if proc.returncode != 0:
        raise SystemExit(f"measure.py: {' '.join(command)} exited with status {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"measure.py: {' '.join(command)} printed nothing")
    return json.loads(lines[-1]), round(others, 3)


def allowed(threads):
    """The others' cores a measurement with `threads` threads tolerates."""
    cores = os.cpu_count()
    free = max(0, cores - (threads or cores))
    return free + float(os.environ.get("DISTURBED", "0.25"))


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    results, tags, command = sys.argv[1], json.loads(sys.argv[2]), sys.argv[4:]
    disturbed = allowed(tags.get("threads"))
    retries = int(os.environ.get("RETRIES", "2"))
    idle_wait = float(os.environ.get("IDLE_WAIT", "300"))
    best, waited = None, 0
    for attempt in range(1, retries + 2):
        result, others = run_once(command)
        if best is None or others < best[1]:
            best = (result, others)
        label = " ".join(f"{k}={v}" for k, v in tags.items())
        print(f"  [{label}] attempt {attempt}: others used {others:.2f} cores", file=sys.stderr, flush=True)
        if others <= disturbed or attempt == retries + 1:
            break
        waited += wait_for_quiet(idle_wait)
    result, others = best
    record = dict(tags, **result, others_cores=others, disturbed=others > disturbed, attempts=attempt,
                  waited_s=waited)
    with open(results, "a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
