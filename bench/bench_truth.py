#!/usr/bin/env python3
"""Hand-run benchmark of `tachy bench` itself, side by side with hyperfine in one run.

Measures, on this machine:
  1. harness overhead per run on `true` with -N (wall time of the whole tool / runs),
     tachy vs hyperfine, alternating invocations;
  2. an A/A experiment: identical commands must not trip the regression gate
     (baseline saved, then gated) nor be called different in an interleaved comparison;
  3. an A/B experiment: a real ~5% slowdown (3.00 vs 3.15 million iterations) must be
     detected (significant "slower") in at least 16 of 20 repetitions;
  4. the machine's coefficient of variation during the experiments.

Usage:  python3 bench/bench_truth.py [--reps 20] [--metric wall|cpu] [--tachy target/release/tachy]
Needs hyperfine on PATH (Debian: apt-get install hyperfine). Takes about 15 minutes.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def overhead(tachy, hyperfine, runs, rounds):
    per_run = {"tachy": [], "hyperfine": []}
    for _ in range(rounds):
        for name, cmd in (
            ("tachy", [tachy, "bench", "-q", "-N", "--runs", str(runs), "--json", "true"]),
            ("hyperfine", [hyperfine, "-N", "--runs", str(runs), "--style", "none", "true"]),
        ):
            t0 = time.perf_counter()
            p = run(cmd)
            dt = time.perf_counter() - t0
            if p.returncode != 0:
                sys.exit(f"{name} failed: {p.stderr}")
            per_run[name].append(dt / runs)
    return {k: statistics.median(v) for k, v in per_run.items()}


def bench_json(tachy, args, cwd):
    p = run([tachy, "bench", "-q", "--json", *args], cwd=cwd)
    if p.returncode not in (0, 1):
        sys.exit(f"tachy failed ({p.returncode}): {p.stderr}")
    return p.returncode, json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--tachy", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "tachy"))
    ap.add_argument("--overhead-runs", type=int, default=1000)
    ap.add_argument("--min-time", default="3s")
    ap.add_argument("--metric", default="wall", choices=["wall", "cpu"])
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument(
        "--protocol",
        default="interleaved",
        choices=["interleaved", "baseline"],
        help="interleaved: A and B alternate in one run, gated with --reference; baseline: A saved, then A and B gated against it in later runs",
    )
    ap.add_argument("--ab-min-time", default="10s", help="--min-time of the interleaved A/B runs")
    args = ap.parse_args()

    hyperfine = shutil.which("hyperfine") or sys.exit("hyperfine not found: apt-get install hyperfine")
    py = sys.executable  # the real interpreter, never a pyenv shim
    work = tempfile.mkdtemp(prefix="tachy-bench-")
    a = f"{py} -c 'sum(range(3000000))'"
    b = f"{py} -c 'sum(range(3150000))'"
    print(f"tachy: {args.tachy}\nhyperfine: {run([hyperfine, '--version']).stdout.strip()}\npython: {py}\n")

    if not args.skip_overhead:
        oh = overhead(args.tachy, hyperfine, args.overhead_runs, 5)
        print("1. harness overhead per run on `true -N` (whole-tool wall / runs, median of 5 alternating invocations)")
        print(f"   tachy {oh['tachy'] * 1e6:.0f} us, hyperfine {oh['hyperfine'] * 1e6:.0f} us, ratio tachy/hyperfine {oh['tachy'] / oh['hyperfine']:.2f}\n")
    print(f"metric: {args.metric}")

    if args.protocol == "interleaved":
        interleaved(args, a, b, work)
        return
    aa_gate = aa_inter = ab_gate = ab_inter = 0
    cvs = []
    cpu_cvs = []
    common = ["--min-time", args.min_time, "--metric", args.metric, "-n", "work"]
    for rep in range(1, args.reps + 1):
        # Baseline of A, then gate A (A/A) and B (A/B) against it at the default gate.
        _, base = bench_json(args.tachy, [*common, "--save-baseline", "a", a], work)
        cvs.append(base["results"][0]["stats"]["cv"])
        cpu_cvs.append(base["results"][0]["stats"]["cpu"]["cv"])
        code_aa, _ = bench_json(args.tachy, [*common, "--baseline", "a", a], work)
        code_ab, rep_ab = bench_json(args.tachy, [*common, "--baseline", "a", b], work)
        aa_gate += code_aa == 1
        row = rep_ab["gate"]["rows"][0]
        ab_gate += row["verdict"] in ("regressed", "slower_within_threshold")
        # Interleaved comparisons in one invocation.
        _, inter_aa = bench_json(args.tachy, ["--min-time", args.min_time, "--metric", args.metric, "-n", "a1", "-n", "a2", a, a], work)
        _, inter_ab = bench_json(args.tachy, ["--min-time", args.min_time, "--metric", args.metric, "-n", "a", "-n", "b", "--reference", "a", a, b], work)
        aa_inter += any(r["verdict"] not in ("reference", "no_difference") for r in inter_aa["relative"])
        ab_verdict = [r for r in inter_ab["relative"] if r["command"] == "b"][0]
        ab_inter += ab_verdict["verdict"] == "slower"
        ratio = ab_verdict["comparison"]["ratio"]["ratio"] if ab_verdict.get("comparison") else float("nan")
        print(
            f"   rep {rep:2d}: A/A gate {'FAIL' if code_aa == 1 else 'pass'}, A/B gate {row['verdict']} "
            f"({(row['comparison']['ratio']['ratio'] - 1) * 100:+.1f}%), interleaved A/B {ab_verdict['verdict']} ({ratio:.3f}x), CV {cvs[-1] * 100:.1f}%",
            flush=True,
        )

    n = args.reps
    print("\n2. A/A (identical commands)")
    print(f"   false regressions at the default gate (--max-regression 5%): {aa_gate}/{n}")
    print(f"   interleaved comparisons called different: {aa_inter}/{n}")
    print("3. A/B (3.00 vs 3.15 million iterations)")
    print(f"   baseline gate detected a significant slowdown: {ab_gate}/{n}")
    print(f"   interleaved comparison said 'slower': {ab_inter}/{n}")
    print(f"4. machine CV of A (wall time): median {statistics.median(cvs) * 100:.1f}%, max {max(cvs) * 100:.1f}%")
    print(f"   CV of A (CPU time): median {statistics.median(cpu_cvs) * 100:.1f}%, max {max(cpu_cvs) * 100:.1f}%")
    shutil.rmtree(work, ignore_errors=True)


def interleaved(args, a, b, work):
    """A/A and A/B in single interleaved runs, gated against the reference at the default 5%."""
    aa_fail = aa_diff = ab_slower = ab_fail = 0
    cvs = []
    for rep in range(1, args.reps + 1):
        code_aa, aa = bench_json(
            args.tachy,
            ["--min-time", args.min_time, "--metric", args.metric, "--reference", a, "--max-regression", "5%",
             "-n", "a", "-n", "a-again", a, a + " "],
            work,
        )
        code_ab, ab = bench_json(
            args.tachy,
            ["--min-time", args.ab_min_time, "--metric", args.metric, "--reference", a, "--max-regression", "5%",
             "-n", "a", "-n", "b", a, b],
            work,
        )
        aa_fail += code_aa == 1
        aa_diff += any(r["verdict"] not in ("reference", "no_difference") for r in aa["relative"])
        row = [r for r in ab["relative"] if r["command"] == "b"][0]
        ab_slower += row["verdict"] == "slower"
        ab_fail += code_ab == 1
        stats = ab["results"][0]["stats"]
        cvs.append(stats["cpu"]["cv"] if args.metric == "cpu" else stats["cv"])
        ratio = row["comparison"]["ratio"]
        print(
            f"   rep {rep:2d}: A/A gate {'FAIL' if code_aa == 1 else 'pass'}, A/B {row['verdict']} "
            f"{ratio['ratio']:.3f}x ({ratio['ci']['low']:.3f}-{ratio['ci']['high']:.3f}), "
            f"p={row['comparison']['test']['p_value']:.3g}, runs {stats['runs']}, CV {cvs[-1] * 100:.1f}%",
            flush=True,
        )
    n = args.reps
    print(f"\nprotocol: interleaved, metric {args.metric}, A/A --min-time {args.min_time}, A/B --min-time {args.ab_min_time}")
    print(f"2. A/A: false regressions at the default gate (--reference, --max-regression 5%): {aa_fail}/{n}; called different: {aa_diff}/{n}")
    print(f"3. A/B: detected as significantly slower: {ab_slower}/{n}; over the 5% gate: {ab_fail}/{n}")
    print(f"4. CV of A ({args.metric}): median {statistics.median(cvs) * 100:.1f}%, max {max(cvs) * 100:.1f}%")


if __name__ == "__main__":
    main()
