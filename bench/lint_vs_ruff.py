#!/usr/bin/env python3
"""tachy lint vs ruff, side by side on the local CPython standard library.

Measures, interleaved in one run (tachy, ruff, tachy, ruff, ...):
  * CPU time (user + system of the child) and wall time of a full lint, no cache;
  * throughput in source lines per CPU-second, and the ratio tachy / ruff;
  * findings per 1k lines for each tool;
and prints a reproducible random sample of tachy's findings with their code frames for a
hand review (`--sample 30 --seed 1`).

Needs a release build (`cargo build --release`) and ruff from PyPI:
    python3 -m venv /tmp/ruffvenv && /tmp/ruffvenv/bin/pip install ruff
    python3 bench/lint_vs_ruff.py --ruff /tmp/ruffvenv/bin/ruff --reps 5 --sample 30
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd):
    """Runs cmd; returns (cpu seconds of the child, wall seconds, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tachy", default=str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "tachy"))
    ap.add_argument("--ruff", default="ruff")
    ap.add_argument("--path", default=sysconfig.get_paths()["stdlib"], help="code to lint (default: this Python's stdlib)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--select", default="PERF,ASYNC,C4,FURB", help="ruff's rule selection")
    ap.add_argument("--sample", type=int, default=0, help="print N random tachy findings for review")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    tachy_cmd = [args.tachy, "lint", "--isolated", "--output-format", "json", args.path]
    ruff_cmd = [args.ruff, "check", "--isolated", "--no-cache", "--exit-zero", "--select", args.select,
                "--output-format", "json", args.path]
    # Warm the page cache once.
    _, _, t_out = run(tachy_cmd)
    _, _, r_out = run(ruff_cmd)
    report = json.loads(t_out)
    ruff_findings = [f for f in json.loads(r_out) if f.get("code")]
    lines = report["lines"]

    t_cpu, t_wall, r_cpu, r_wall = [], [], [], []
    for _ in range(args.reps):
        c, w, _ = run(tachy_cmd)
        t_cpu.append(c)
        t_wall.append(w)
        c, w, _ = run(ruff_cmd)
        r_cpu.append(c)
        r_wall.append(w)

    med = statistics.median
    print(f"corpus: {args.path}: {report['files']} files, {lines} lines")
    print(f"{'tool':<6} {'cpu s (median)':>15} {'wall s (median)':>16} {'lines/cpu-s':>12} {'findings':>9} {'per 1k lines':>13}")
    for name, cpu, wall, n in (("tachy", t_cpu, t_wall, len(report["findings"])), ("ruff", r_cpu, r_wall, len(ruff_findings))):
        print(f"{name:<6} {med(cpu):>15.3f} {med(wall):>16.3f} {lines / med(cpu):>12,.0f} {n:>9} {1000 * n / lines:>13.2f}")
    ratios = [r / t for t, r in zip(t_cpu, r_cpu)]
    print(f"throughput ratio tachy/ruff (CPU time, per pair): median {med(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
    print(f"wall ratio ruff/tachy: {med(r_wall) / med(t_wall):.2f}")
    counts = {}
    for f in report["findings"]:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    print("tachy findings per rule:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"files tachy could not lint completely: {len(report['errors'])}")

    if args.sample:
        rng = random.Random(args.seed)
        picks = rng.sample(report["findings"], min(args.sample, len(report["findings"])))
        for i, f in enumerate(picks, 1):
            path = Path(args.path) / f["path"] if not os.path.isabs(f["path"]) else Path(f["path"])
            try:
                src = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                src = []
            line = f["location"]["line"]
            print(f"\n#{i} {f['path']}:{line}: {f['code']} {f['message']}")
            for n in range(max(1, line - 3), min(len(src), line + 3) + 1):
                print(f"  {'>' if n == line else ' '}{n:5} {src[n - 1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
