#!/usr/bin/env python3
"""Hand-run check of `tachy profile diff` and `tachy check`'s profile baseline on real code:
A/A (two runs of unchanged code must not fail the gate) and A/B (a real share shift must).

Workload: pure-Python black (`pip install --no-binary black black==26.10.1`) formatting a
~5,000-line input built by concatenating standard-library modules (`black.format_str`).

  1. A/A: `tachy profile diff --fail-if-grows 2` on PAIRS pairs of independent runs of the same
     code: gate failures (target <= 1/20) and functions called grew/shrank.
  2. A/B: PAIRS pairs where the second run has a slower `Parser.shift` (blib2to3): the driver
     wraps it with a function that burns CPU after each call and carries the original code's
     name, file and line, so the extra time is that function's own; the share shift actually
     produced is measured (mean and range of its self-share change). Detections: the gate
     fails and names `Parser.shift` (target >= 18/20).
  3. `tachy check` with a profile budget `baseline` + `max_share_increase = "5%"`: the first run
     saves the baseline, then CHECK_RUNS runs of unchanged code: failures (target <= 1/20).

For comparison, the verdict of the previous statistics (per-function 95% Wald interval on the
sample counts, no multiple-comparison control) is recomputed from the same diffs' counts.

Usage:  python3 bench/profile_diff_aa.py [--venv /work/venv-black] [--pairs 20] [--check-runs 20]
            [--rate 100] [--tachy target/release/tachy]
Without --venv, a venv with pure-Python black is made under /tmp (and reused next time).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = ("Parser.shift", "parse.py")

DRIVER = r'''
import sys
import black
from blib2to3.pgen2 import parse

burn = int(sys.argv[2]) if len(sys.argv) > 2 else 0
if burn:
    orig = parse.Parser.shift

    def shift(self, *args, **kwargs):
        r = orig(self, *args, **kwargs)
        for _ in range(burn):
            pass
        return r

    c = orig.__code__
    # The wrapper is profiled as Parser.shift itself: its extra time is that function's own.
    shift.__code__ = shift.__code__.replace(
        co_name=c.co_name, co_qualname=c.co_qualname, co_filename=c.co_filename, co_firstlineno=c.co_firstlineno
    )
    parse.Parser.shift = shift

with open(sys.argv[1]) as f:
    src = f.read()
black.format_str(src, mode=black.Mode())
'''


def make_venv(path):
    py = os.path.join(path, "bin", "python")
    if os.path.exists(py):
        ok = subprocess.run([py, "-c", "import black, blib2to3; print(black.__version__)"], capture_output=True, text=True)
        if ok.returncode == 0:
            return py
    subprocess.run([sys.executable, "-m", "venv", path], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-binary", "black", "black==26.10.1"], check=True)
    return py


def build_input(path, lines=5000):
    lib = sysconfig.get_paths()["stdlib"]
    parts, n = [], 0
    for m in ["argparse.py", "ast.py", "dataclasses.py", "difflib.py", "inspect.py", "textwrap.py"]:
        with open(os.path.join(lib, m)) as f:
            text = f.read()
        parts.append(text)
        n += text.count("\n")
        if n >= lines:
            break
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return n


def profile(tachy, py, driver, inp, out, rate, burn):
    cmd = [tachy, "profile", "-q", "--rate", str(rate), "-o", out, "--", py, driver, inp]
    if burn:
        cmd.append(str(burn))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["meta"]["samples"]


def diff(tachy, a, b, limit):
    r = subprocess.run([tachy, "profile", "diff", "--json", "--fail-if-grows", str(limit), a, b], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"tachy profile diff failed: {r.stderr}")
    return r.returncode, json.loads(r.stdout)


def wald_failed(d, limit):
    """The previous statistics: 95% Wald interval per function, no correction."""
    n1, n2 = d["before_samples"], d["after_samples"]
    for r in d["rows"]:
        s = r["self_share"]
        p1, p2 = s["before"], s["after"]
        half = 1.96 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        if s["delta"] - half > 0 and s["delta"] >= 0.005 and s["delta"] * 100 > limit:
            return True
    return False


def row(d, key):
    for r in d["rows"]:
        if r["function"] == key[0] and r["file"].endswith(key[1]):
            return r
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default="/tmp/tachy-profile-diff-venv")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--check-runs", type=int, default=20)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--limit", type=float, default=2.0, help="--fail-if-grows, percentage points")
    ap.add_argument("--burn", type=int, default=400, help="loop iterations added to each Parser.shift call")
    ap.add_argument("--tachy", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "tachy"))
    ap.add_argument("--work", default=None, help="folder for inputs and profiles (default: a new temp folder)")
    args = ap.parse_args()
    py = make_venv(args.venv)
    work = args.work or tempfile.mkdtemp(prefix="tachy-profile-diff-")
    os.makedirs(work, exist_ok=True)
    inp = os.path.join(work, "input.py")
    lines = build_input(inp)
    driver = os.path.join(work, "driver.py")
    with open(driver, "w") as f:
        f.write(DRIVER)
    print(f"black formatting {lines} lines; tachy {args.tachy}; {args.rate} Hz; work in {work}", flush=True)

    # A, A, B per pair (interleaved, so machine drift hits both sides alike).
    aa, ab, samples = [], [], []
    for k in range(args.pairs):
        a1, a2, b = (os.path.join(work, f"{x}{k}.json") for x in ("a", "a2_", "b"))
        samples.append(profile(args.tachy, py, driver, inp, a1, args.rate, 0))
        samples.append(profile(args.tachy, py, driver, inp, a2, args.rate, 0))
        samples.append(profile(args.tachy, py, driver, inp, b, args.rate, args.burn))
        aa.append(diff(args.tachy, a1, a2, args.limit))
        ab.append(diff(args.tachy, a1, b, args.limit))
        print(f"  pair {k + 1}: A/A exit {aa[-1][0]}, A/B exit {ab[-1][0]}", flush=True)

    n = args.pairs
    print(f"\nsamples per profile: median {statistics.median(samples):.0f} (min {min(samples)}, max {max(samples)})")
    aa_fail = sum(rc == 1 for rc, _ in aa)
    aa_flag = [sum(r["self_share"]["verdict"] in ("grew", "shrank") for r in d["rows"]) for _, d in aa]
    aa_old = sum(wald_failed(d, args.limit) for _, d in aa)
    tested = [d.get("self_tested", 0) for _, d in aa]
    print(f"A/A  --fail-if-grows {args.limit:g}: gate failed {aa_fail}/{n} (previous Wald statistics: {aa_old}/{n}); "
          f"functions called grew/shrank per diff: mean {statistics.mean(aa_flag):.2f}, max {max(aa_flag)}; "
          f"functions tested per diff: median {statistics.median(tested):.0f}")
    for rc, d in aa:
        if rc == 1:
            print("     failed on:", ", ".join(f"{f['function']} {f['delta'] * 100:+.1f}pp" for f in d["failures"]))

    shifts = [row(d, TARGET)["self_share"]["delta"] * 100 for _, d in ab if row(d, TARGET)]
    named = sum(rc == 1 and any(f["function"] == TARGET[0] for f in d["failures"]) for rc, d in ab)
    others = sum(rc == 1 and any(f["function"] != TARGET[0] for f in d["failures"]) for rc, d in ab)
    ab_old = sum(wald_failed(d, args.limit) for _, d in ab)
    print(f"A/B  {TARGET[0]} self share shift produced: mean {statistics.mean(shifts):+.1f}pp "
          f"(min {min(shifts):+.1f}, max {max(shifts):+.1f}); detected and named {named}/{n} "
          f"(previous statistics: {ab_old}/{n}); diffs also failing on another function: {others}")
    widths = [(row(d, TARGET)["self_share"]["ci_high"] - row(d, TARGET)["self_share"]["ci_low"]) * 50 for _, d in ab if row(d, TARGET)]
    print(f"     half-width of its interval: median {statistics.median(widths):.1f}pp")

    if args.check_runs > 0:
        proj = os.path.join(work, "check")
        os.makedirs(proj, exist_ok=True)
        with open(os.path.join(proj, "tachy.toml"), "w") as f:
            f.write(
                "[budget.fmt]\nkind = \"profile\"\n"
                f"command = {json.dumps([py, driver, inp])}\n"
                "baseline = \"base.json\"\nmax_share_increase = \"5%\"\n"
                f"rate = {args.rate}\n"
            )
        first = subprocess.run([args.tachy, "check", "--json"], cwd=proj, capture_output=True, text=True)
        if first.returncode != 0:
            sys.exit(f"the first tachy check (saving the baseline) failed: {first.stderr}{first.stdout[-2000:]}")
        fails, measured = 0, []
        for k in range(args.check_runs):
            r = subprocess.run([args.tachy, "check", "--json"], cwd=proj, capture_output=True, text=True)
            if r.returncode not in (0, 1):
                sys.exit(f"tachy check failed: {r.stderr}")
            rep = json.loads(r.stdout)
            c = [c for c in rep["budgets"][0]["checks"] if c["metric"] == "largest share increase vs baseline"][0]
            measured.append(c["measured"])
            fails += r.returncode == 1
            print(f"  check {k + 1}: exit {r.returncode}, {c['measured_text']}", flush=True)
        print(f"check A/A  max_share_increase 5%: failed {fails}/{args.check_runs}; "
              f"largest point increase: median {statistics.median(measured):+.1f}, max {max(measured):+.1f} points")


if __name__ == "__main__":
    main()
