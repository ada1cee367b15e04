#!/usr/bin/env python3
"""Hand-run benchmark of `tachy profile` side by side with the py-spy CLI (PyPI) in one run.

Measures on this machine:
  1. target overhead: wall time of a fixed CPU-bound Python program run plain, under
     `py-spy record` and under `tachy profile`, at 100 Hz and at 1000 Hz. The runs are
     interleaved and timed by `tachy bench` (medians with 95% CIs); ratios are to plain.
  2. achieved sampling rate at 1000 Hz (tachy's own report, and py-spy's sample count).
  3. rendering a synthetic 1M-sample profile into every format (`tachy profile show`).

Usage:  python3 bench/profile_overhead.py [--runs 5] [--py-spy PATH] [--tachy target/release/tachy]
py-spy: `python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install py-spy`.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def synthetic_profile(path, samples=1_000_000, frames=400, stacks=20_000):
    rng = random.Random(7)
    fr = [{"function": f"func_{i}", "file": f"/app/mod_{i % 40}.py", "line": i % 300 + 1} for i in range(frames)]
    st = []
    for _ in range(stacks):
        depth = rng.randint(3, 25)
        st.append({"thread": rng.randrange(4), "frames": [rng.randrange(frames) for _ in range(depth)], "count": 0})
    # Real programs stay in one stack for a while: each sample repeats the previous stack with
    # probability 0.9, else jumps to a random one (uniformly random stacks would be a worst case
    # no profiler meets, with a Chrome trace of tens of millions of events).
    order, cur = [], 0
    for _ in range(samples):
        if rng.random() >= 0.9:
            cur = rng.randrange(stacks)
        order.append(cur)
    for s in order:
        st[s]["count"] += 1
    prof = {
        "schema": "tachy-profile/1",
        "tachy_version": "synthetic",
        "meta": {
            "command": ["synthetic"], "pids": [1], "python_version": "3.11.7", "rate_requested": 1000.0,
            "rate_achieved": 1000.0, "duration_secs": samples / 4000.0, "started_at": "2026-01-01T00:00:00Z",
            "rounds": samples // 4, "samples": samples, "late_rounds": 0, "errors": 0, "error_messages": [],
            "options": {"threads": True, "idle": False, "gil_only": False, "nonblocking": False,
                        "subprocesses": False, "native": False},
            "exit_code": 0, "end": "target_exited",
        },
        "frames": fr,
        "threads": [{"pid": 1, "thread_id": t, "os_thread_id": 100 + t, "name": f"t{t}"} for t in range(4)],
        "stacks": st,
        "timeline": {"offsets_us": [i * 250 for i in range(samples)], "stacks": order},
    }
    with open(path, "w") as f:
        json.dump(prof, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", default="3", help="work size of bench/workloads/cpu_work.py")
    ap.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/bench-venv/bin/py-spy")
    ap.add_argument("--tachy", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "tachy"))
    args = ap.parse_args()
    py = sys.executable
    work = os.path.join(ROOT, "bench", "workloads", "cpu_work.py")
    tmp = tempfile.mkdtemp(prefix="tachy-profile-bench-")
    prog = f"{q(py)} {q(work)} {args.scale}"
    spy = q(args.py_spy)
    tachy = q(args.tachy)
    cmds, names = [prog], ["plain"]
    for rate in (100, 1000):
        cmds.append(f"{spy} record --rate {rate} --format raw -o {tmp}/spy{rate}.txt -- {prog}")
        names.append(f"py-spy {rate} Hz")
        cmds.append(f"{tachy} profile -q --rate {rate} -f json -o {tmp}/tachy{rate}.json -- {prog} > /dev/null")
        names.append(f"tachy {rate} Hz")
    bench = [args.tachy, "bench", "-q", "--json", "--runs", str(args.runs), "--reference", prog]
    for n in names:
        bench += ["-n", n]
    out = subprocess.run(bench + cmds, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    rep = json.loads(out.stdout)
    print(f"py-spy: {subprocess.run([args.py_spy, '--version'], capture_output=True, text=True).stdout.strip()}, python: {py}")
    print("1. target overhead (median wall time, interleaved, ratio to plain with 95% CI)")
    plain = [r for r in rep["results"] if r["command"] == "plain"][0]["median"]
    for r in rep["results"]:
        rel = [x for x in rep["relative"] if x["command"] == r["command"]][0]
        ci = rel.get("comparison", {}).get("ratio", {}).get("ci", {})
        extra = f" ({ci['low']:.2f}-{ci['high']:.2f})" if ci else ""
        print(f"   {r['command']:<16} {r['median']:.3f} s  {r['median'] / plain:.2f}x{extra}")
    t = json.load(open(f"{tmp}/tachy1000.json"))["meta"]
    spy_samples = sum(int(line.rsplit(" ", 1)[1]) for line in open(f"{tmp}/spy1000.txt") if line.strip())
    print("2. achieved rate at 1000 Hz (last run)")
    print(f"   tachy: {t['rate_achieved']:.1f} Hz ({t['rate_achieved'] / 10:.1f}% of requested), {t['late_rounds']} late rounds")
    spy_median = [r for r in rep["results"] if r["command"] == "py-spy 1000 Hz"][0]["median"]
    print(f"   py-spy: {spy_samples} samples in a run of about {spy_median:.2f} s: ~{spy_samples / spy_median:.0f} Hz")
    big = os.path.join(tmp, "big.json")
    synthetic_profile(big)
    print("3. rendering a synthetic 1M-sample profile (tachy profile show; load + render + write)")
    for fmt, ext in [("text", "txt"), ("collapsed", "collapsed.txt"), ("flamegraph", "svg"), ("speedscope", "speedscope.json"),
                     ("pprof", "pb.gz"), ("chrome", "trace.json"), ("json", "json")]:
        t0 = time.perf_counter()
        subprocess.run([args.tachy, "profile", "show", big, "-f", fmt, "-o", os.path.join(tmp, f"out.{ext}")], check=True)
        print(f"   {fmt:<11} {time.perf_counter() - t0:.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
