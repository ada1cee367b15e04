#!/usr/bin/env python3
"""Hand-run benchmark of `tachy mem` side by side with memray and scalene (PyPI) in one run.

Measures on this machine:
  1. target overhead: wall time of three programs (a call-heavy CPU one, recursive fib plus
     small tuple churn; an allocation-heavy one, building and dropping dicts, lists and
     strings; a NumPy one, arrays made and dropped), each ~1-2 s plain, run plain, under
     `tachy mem` (C allocator traced, the default), `tachy mem --no-native`, `memray run` (with
     and without `--trace-python-allocators`) and `scalene run --memory`, in alternating
     rounds; medians and ratios to plain. The time memray takes to build its reports (`memray stats`,
     `memray flamegraph`) is timed apart.
  2. report building for a capture of ~10M allocations (`tachy mem --exact`): the program
     writes the time it finished, so the time from there to tachy's exit (interpreter
     shutdown, hook flush, reading the capture, building and writing the report) is shown
     next to the plain run and tachy's total wall time.
  3. the truth check: `crates/tachy/tests/fixtures/mem/truth.py` (200 MiB transient peak in
     make_peak, then a 48 MiB leak in leak) under tachy, for each interpreter: peak and top
     sites; and `numpy_truth.py` (the same with NumPy arrays, memory C code takes from malloc)
     with the venv's interpreter.

Usage:  python3 bench/mem_overhead.py [--rounds 3] [--tachy PATH] [--venv /tmp/tachy-mem-bench-venv]
The venv is created on first use (`python -m venv`, `pip install memray scalene numpy`); every
program runs with the venv's interpreter so all tools see the same CPython. Needs a release
build of tachy (`cargo build --release -p tachy`; default $CARGO_TARGET_DIR/release/tachy,
else ~/.cache/tachy/target/release/tachy).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRUTH = os.path.join(ROOT, "crates", "tachy", "tests", "fixtures", "mem", "truth.py")
NUMPY_TRUTH = os.path.join(ROOT, "crates", "tachy", "tests", "fixtures", "mem", "numpy_truth.py")
DEBIAN_PYTHON = "/usr/bin/python3.11"
MIB = 1 << 20

# ~2 s plain each on the 2-core development VM; `--scale` multiplies the work.
CPU_WORK = '''"""Call-heavy CPU work: recursive fib and small tuple churn."""
import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def churn(n):
    acc = 0
    for i in range(n):
        t = (i, i + 1, i + 2)
        acc += t[1]
    return acc


scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
for _ in range(max(1, int(16 * scale))):
    fib(25)
    churn(300_000)
'''

ALLOC_WORK = '''"""Allocation-heavy work: builds and drops many dicts, lists and strings."""
import sys


def build(n):
    rows = []
    for i in range(n):
        rows.append({"id": i, "name": "user-" + str(i), "tags": [str(i % 7), str(i % 11)], "score": i * 0.5})
    return rows


def summarize(rows):
    out = {}
    for r in rows:
        out.setdefault(r["tags"][0], []).append(r["name"].upper())
    return sum(len(v) for v in out.values())


scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
for _ in range(max(1, int(7 * scale))):
    rows = build(100_000)
    summarize(rows)
    del rows
'''

NUMPY_WORK = '''"""NumPy work: arrays made, combined and dropped (data from malloc, outside Python's allocators)."""
import sys

import numpy as np


def step(n):
    a = np.random.rand(n)
    b = a * 2.0 + 1.0
    c = np.sort(b)
    return float(c[n // 2]) + len([float(x) for x in a[:500]])


scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
acc = 0.0
for _ in range(max(1, int(300 * scale))):
    acc += step(200_000)
'''

# Three traced allocations per iteration on CPython 3.11 (the int from range above 256, the
# str and its conversion buffer): ~10M in all.
# argv[1]: file to write the finishing time to.
MANY_ALLOCS = '''"""About 10M small allocations, then writes time.time() to argv[1]."""
import sys
import time


def many(n):
    for i in range(1000, n + 1000):
        s = str(i)
    return s


many(3_333_333)
with open(sys.argv[1], "w") as f:
    f.write(repr(time.time()))
'''


def default_tachy():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/tachy/target")
    return os.path.join(target, "release", "tachy")


def ensure_venv(venv, base_python, timeout):
    """Creates the venv with memray and scalene unless it already has them."""
    py = os.path.join(venv, "bin", "python")
    have_numpy = os.path.exists(py) and subprocess.run([py, "-c", "import numpy"], capture_output=True).returncode == 0
    tools = all(os.path.exists(os.path.join(venv, "bin", t)) for t in ("memray", "scalene"))
    if tools and have_numpy:
        return py
    print(f"creating {venv} with memray, scalene and numpy (pip)...", flush=True)
    if not os.path.exists(py):
        subprocess.run([base_python, "-m", "venv", venv], check=True, timeout=timeout)
    subprocess.run([py, "-m", "pip", "install", "-q", "memray", "scalene", "numpy"], check=True, timeout=timeout)
    return py


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def scalene_command(scalene, out, prog):
    """Scalene 2.x has `scalene run` (memory with --memory, JSON out, no browser); 1.x took
    `--cli --memory --off-browser`."""
    help_text = subprocess.run([scalene, "--help"], capture_output=True, text=True, timeout=60).stdout
    if "{run,view}" in help_text or "\n    run " in help_text:
        return [scalene, "run", "--memory", "-o", out] + prog[1:2] + ["---"] + prog[2:]
    return [scalene, "--cli", "--memory", "--off-browser", "--outfile", out] + prog[1:]


def timed(cmd, timeout, env=None):
    """Wall time of one run in seconds (None when it failed or timed out)."""
    start = time.perf_counter()
    try:
        res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        print(f"  timeout ({timeout} s): {' '.join(cmd)}", flush=True)
        return None
    wall = time.perf_counter() - start
    if res.returncode != 0:
        err = res.stderr.decode(errors="replace").strip().splitlines()[-3:]
        print(f"  exit {res.returncode}: {' '.join(cmd)}\n    " + "\n    ".join(err), flush=True)
        return None
    return wall


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "-" if x is None else f"{x:.2f}"


def fmt_ratio(x, base):
    return "-" if x is None or not base else f"{x / base:.2f}x"


def overhead(args, py, tmp):
    venv_bin = os.path.join(args.venv, "bin")
    memray = os.path.join(venv_bin, "memray")
    scalene = os.path.join(venv_bin, "scalene")
    workloads = {}
    for name, src in [
        ("cpu (fib + tuples)", CPU_WORK),
        ("alloc (dicts/lists/str)", ALLOC_WORK),
        ("numpy (arrays)", NUMPY_WORK),
    ]:
        # Not `numpy.py`: the script's folder comes first on sys.path and would shadow NumPy.
        path = os.path.join(tmp, name.split()[0] + "_work.py")
        with open(path, "w") as f:
            f.write(src)
        workloads[name] = path

    rows = []
    for name, path in workloads.items():
        if args.only and not name.startswith(args.only):
            continue
        prog = [py, path, str(args.scale)]
        # memray sees pymalloc's small blocks only with --trace-python-allocators (tachy
        # always traces the Python allocators): both are timed.
        traced = "memray run --trace-python-allocators"
        bins = {"memray run": os.path.join(tmp, "memray.bin"), traced: os.path.join(tmp, "memray-py.bin")}
        tools = {
            "plain": prog,
            "tachy mem": [args.tachy, "-q", "mem", "-o", os.path.join(tmp, "tachy.json"), "-f", "json", "--"] + prog,
            "tachy mem --no-native": [args.tachy, "-q", "mem", "--no-native", "-o", os.path.join(tmp, "t2.json"), "-f", "json", "--"]
            + prog,
            "memray run": [memray, "run", "-q", "-f", "-o", bins["memray run"]] + prog[1:],
            traced: [memray, "run", "-q", "-f", "--trace-python-allocators", "-o", bins[traced]] + prog[1:],
            "scalene run --memory": scalene_command(scalene, os.path.join(tmp, "scalene.json"), prog),
        }
        times = {t: [] for t in tools}
        reports = {t: ([], []) for t in bins}
        print(f"{name}: {args.rounds} alternating rounds", flush=True)
        for r in range(args.rounds):
            order = list(tools) if r % 2 == 0 else list(reversed(tools))
            for tool in order:
                times[tool].append(timed(tools[tool], args.timeout))
                if tool in bins and os.path.exists(bins[tool]):
                    stats_t, flame_t = reports[tool]
                    stats_t.append(timed([memray, "stats", bins[tool]], args.timeout))
                    html = os.path.join(tmp, "memray.html")
                    flame_t.append(timed([memray, "flamegraph", "-f", "-o", html, bins[tool]], args.timeout))
        plain = med(times["plain"])
        for tool in tools:
            rows.append((name, tool, med(times[tool]), fmt_ratio(med(times[tool]), plain)))
        for tool, (stats_t, flame_t) in reports.items():
            rows.append((name, f"then `memray stats` ({tool})", med(stats_t), ""))
            rows.append((name, f"then `memray flamegraph` ({tool})", med(flame_t), ""))
    print()
    print(f"| workload | tool | wall s (median of {args.rounds}) | vs plain |")
    print("| --- | --- | --- | --- |")
    for name, tool, t, ratio in rows:
        print(f"| {name} | {tool} | {fmt_s(t)} | {ratio} |")
    print()


def report_building(args, py, tmp):
    prog_path = os.path.join(tmp, "many.py")
    with open(prog_path, "w") as f:
        f.write(MANY_ALLOCS)
    done = os.path.join(tmp, "many.done")
    out = os.path.join(tmp, "many.json")
    plain = med([timed([py, prog_path, done], args.timeout) for _ in range(args.rounds)])
    walls, tails, allocs, samples, size = [], [], None, None, None
    for _ in range(args.rounds):
        for p in (done, out):
            if os.path.exists(p):
                os.remove(p)
        cmd = [args.tachy, "-q", "mem", "--exact", "-o", out, "-f", "json", "--", py, prog_path, done]
        wall = timed(cmd, args.timeout)
        end = time.time()
        walls.append(wall)
        if wall is not None and os.path.exists(done):
            with open(done) as f:
                tails.append(end - float(f.read()))
            with open(out) as f:
                rep = json.load(f)
            allocs, samples, size = rep["totals"]["allocations"], rep["totals"]["samples"], os.path.getsize(out)
    print(f"Report building, `tachy mem --exact` on ~10M allocations (median of {args.rounds}):")
    print(f"  allocations traced: {allocs:,}" if allocs else "  allocations traced: -")
    print(f"  samples recorded:   {samples:,}" if samples else "  samples recorded:   -")
    print(f"  report size:        {size / MIB:.1f} MiB" if size else "  report size:        -")
    print(f"  plain run:          {fmt_s(plain)} s")
    print(f"  tachy mem --exact:  {fmt_s(med(walls))} s ({fmt_ratio(med(walls), plain)})")
    print(f"  program end -> tachy exit (shutdown + flush + read + build + write): {fmt_s(med(tails))} s")
    print()


def truth(args, runs):
    print("Truth check: 200 MiB transient peak in make_peak, then 48 MiB leaked by leak")
    for py, script in runs:
        with tempfile.TemporaryDirectory(prefix="tachy-mem-truth-") as d:
            out = os.path.join(d, "truth.json")
            cmd = [args.tachy, "-q", "mem", "-o", out, "-f", "json", "--", py, script]
            if timed(cmd, args.timeout) is None or not os.path.exists(out):
                print(f"  {py}: no report")
                continue
            with open(out) as f:
                r = json.load(f)
        print(f"  {os.path.basename(script)} with {py} (Python {r.get('python_version')}):")
        print(
            f"    peak traced {r['peak']['traced_bytes'] / MIB:.1f} MiB, peak RSS {r['peak']['rss_bytes'] / MIB:.1f} MiB, "
            f"leaked {r['leaked_bytes'] / MIB:.1f} MiB (estimate), {r['totals']['samples']:,} samples"
        )
        for table, label in [("peak_sites", "live at the peak"), ("leak_sites", "leaked")]:
            for s in r[table][:3]:
                print(
                    f"    {label:<16} {s['bytes'] / MIB:7.1f} MiB {s['share'] * 100:5.1f}%  "
                    f"{os.path.basename(s['file'])}:{s['line']} {s['function']}"
                )
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="work size of the two programs (1.0: ~2 s plain)")
    ap.add_argument("--tachy", default=default_tachy())
    ap.add_argument("--venv", default="/tmp/tachy-mem-bench-venv")
    ap.add_argument("--python", default=sys.executable, help="base interpreter of the venv")
    ap.add_argument("--timeout", type=float, default=300.0, help="bound on each run, seconds")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--only", help="run only the overhead workloads whose name starts with this (cpu, alloc, numpy)")
    ap.add_argument("--skip-build", action="store_true", help="skip the 10M-allocation report building")
    args = ap.parse_args()
    if not os.path.exists(args.tachy):
        sys.exit(f"no tachy binary at {args.tachy}: cargo build --release -p tachy, or pass --tachy")
    py = ensure_venv(args.venv, args.python, args.timeout)
    tmp = tempfile.mkdtemp(prefix="tachy-mem-bench-")
    print(f"tachy:   {version([args.tachy, '--version'])} ({args.tachy})")
    print(f"memray:  {version([os.path.join(args.venv, 'bin', 'memray'), '--version'])}")
    print(f"scalene: {version([os.path.join(args.venv, 'bin', 'scalene'), '--version'])}")
    print(f"python:  {version([py, '--version'])} ({py})")
    print(f"cpus:    {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}\n", flush=True)
    if not args.skip_overhead:
        overhead(args, py, tmp)
    if not args.skip_build:
        report_building(args, py, tmp)
    runs = [(py, TRUTH)] + ([(DEBIAN_PYTHON, TRUTH)] if os.path.exists(DEBIAN_PYTHON) else []) + [(py, NUMPY_TRUTH)]
    truth(args, runs)
    print(f"scratch files left in {tmp}")


if __name__ == "__main__":
    main()
