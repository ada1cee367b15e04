#!/usr/bin/env python3
"""Hand-run benchmark of `tachy bench --python` and tachy's pytest plugin side by side with pyperf,
stdlib timeit and pytest-benchmark (PyPI) in one run.

Measures on this machine:
  1. micro-benchmarks: `x in l` and `x in s` (setup `l = list(range(10_000)); s = set(l);
     x = 9_999`, measured together by one `tachy bench --python` run, so tachy compares them)
     and `d.get(5)` on a 10-key dict, each with `tachy bench --python` (JSON export),
     `python -m pyperf timeit -o` (one run per statement; its JSON values) and
     `python -m timeit` (best of 5, parsed from its output). For each statement: median, mean
     and min per loop of every tool, the tachy/pyperf ratios (agreement), and the wall time
     each tool took to give its answer (tachy/pyperf ratio); for list vs set, the ratio and
     whether the difference is significant, by tachy (Mann-Whitney U, bootstrap CI) and by
     pyperf (its t-test, `pyperf._utils.is_significant`).
  2. pytest: a generated file of 3 small benchmarks, run once with pytest-benchmark's
     `benchmark` fixture and once with tachy's plugin (`-p tachy.pytest_plugin -p no:benchmark`,
     so tachy's fixture takes the name `benchmark`); the session wall time of each and the
     per-benchmark mean and median (from both pytest-benchmark JSON files) side by side.
Tools alternate order from round to round; with --rounds N the table shows medians over rounds.
Ratios, not absolute times, are the result: the machine's noise moves all tools alike.

Usage:  python3 bench/python_bench.py [--rounds 1] [--tachy PATH] [--venv /tmp/tachy-pybench-venv]
            [--pyperf-mode default|fast|rigorous] [--skip-stmt] [--skip-pytest]
The venv is created on first use (`python -m venv`, `pip install pyperf pytest pytest-benchmark`);
every tool runs with the venv's interpreter, so all of them time the same CPython. tachy's
plugin is loaded from this checkout (`PYTHONPATH=python`, `TACHY_BIN=--tachy`). Needs a release
build (`cargo build --release -p tachy`; default $CARGO_TARGET_DIR/release/tachy, else
target/release/tachy in this checkout).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP_LS = "l = list(range(10_000)); s = set(l); x = 9_999"
SETUP_D = "d = {i: i for i in range(10)}"
# (label, statement, setup); the first two are measured in one tachy run and compared.
STATEMENTS = [("list", "x in l", SETUP_LS), ("set", "x in s", SETUP_LS), ("dict.get", "d.get(5)", SETUP_D)]

PYTEST_FILE = '''
DATA = list(range(1000, 0, -1))
STRS = [str(i) for i in range(100)]


def test_sorted(benchmark):
    benchmark(sorted, DATA)


def test_join(benchmark):
    benchmark("-".join, STRS)


def test_dictcomp(benchmark):
    benchmark(lambda: {i: i * i for i in range(100)})
'''

UNITS = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}
PYPERF_SIGNIFICANT = (
    "import json, sys; from pyperf._utils import is_significant; "
    "a, b = json.load(sys.stdin); print(json.dumps(is_significant(a, b)))"
)


def default_tachy():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "tachy")


def ensure_venv(venv, base_python, timeout):
    """Creates the venv with pyperf, pytest and pytest-benchmark unless it already has them."""
    py = os.path.join(venv, "bin", "python")
    check = [py, "-c", "import pyperf, pytest, pytest_benchmark"]
    if os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    print(f"creating {venv} with pyperf, pytest and pytest-benchmark (pip)...", flush=True)
    subprocess.run([base_python, "-m", "venv", venv], check=True, timeout=timeout)
    subprocess.run([py, "-m", "pip", "install", "-q", "pyperf", "pytest", "pytest-benchmark"], check=True, timeout=timeout)
    return py


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def run(cmd, timeout, env=None, cwd=None):
    """(wall seconds, stdout) of one run; exits the script when the tool fails."""
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        tail = (res.stdout + res.stderr).strip().splitlines()[-15:]
        sys.exit(f"exit {res.returncode}: {' '.join(cmd)}\n  " + "\n  ".join(tail))
    return wall, res.stdout


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_t(x):
    if x is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if x >= scale:
            return f"{x / scale:.4g} {unit}"
    return f"{x / 1e-9:.4g} ns"


def fmt_r(x):
    return "-" if x is None else f"{x:.3f}"


def ratio(a, b):
    return None if a is None or not b else a / b


# ---- micro-benchmarks ----------------------------------------------------------------------


def tachy_stmts(args, py, tmp, items):
    """One `tachy bench --python` run of `items`: ({label: figures}, relative, wall, stdout)."""
    out = os.path.join(tmp, "tachy-" + "+".join(label for label, _, _ in items) + ".json")
    cmd = [args.tachy, "bench", "-q", "--python-exe", py, "--export-json", out]
    for label, stmt, setup in items:
        cmd += ["--python", stmt, "--setup", setup, "-n", label]
    wall, text = run(cmd, args.timeout)
    with open(out) as f:
        report = json.load(f)
    figures = {}
    for r in report["results"]:
        figures[r["command"]] = {
            "median": r["median"],
            "mean": r["mean"],
            "min": r["min"],
            "values": r["stats"]["runs"],
            "loops": r["parameters"].get("loops"),
        }
    return figures, report.get("relative") or [], wall, text


def pyperf_stmt(args, py, tmp, label, stmt, setup):
    out = os.path.join(tmp, f"pyperf-{label}.json")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [py, "-m", "pyperf", "timeit", "-q", "-o", out, "-s", setup, stmt]
    if args.pyperf_mode != "default":
        cmd.insert(4, f"--{args.pyperf_mode}")
    wall, _ = run(cmd, args.timeout)
    with open(out) as f:
        data = json.load(f)
    values = [v for r in data["benchmarks"][0]["runs"] for v in r.get("values", [])]
    fig = {
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "min": min(values),
        "values": len(values),
        "loops": data["metadata"].get("loops"),
    }
    return fig, values, wall


def timeit_stmt(args, py, stmt, setup):
    wall, text = run([py, "-m", "timeit", "-s", setup, stmt], args.timeout)
    m = re.search(r"(\d+) loops?, best of (\d+): ([\d.]+) (nsec|usec|msec|sec) per loop", text)
    if not m:
        sys.exit(f"cannot parse timeit's output: {text!r}")
    return {"min": float(m.group(3)) * UNITS[m.group(4)], "loops": m.group(1), "values": int(m.group(2))}, wall


def pyperf_significance(py, a, b):
    res = subprocess.run(
        [py, "-c", PYPERF_SIGNIFICANT], input=json.dumps([a, b]), capture_output=True, text=True, timeout=60
    )
    try:
        significant, t = json.loads(res.stdout)
        return significant, t
    except (ValueError, TypeError):
        return None, None


def statements(args, py, tmp):
    groups = [STATEMENTS[:2], STATEMENTS[2:]]
    per_round = []
    for rnd in range(args.rounds):
        fig = {label: {} for label, _, _ in STATEMENTS}
        walls = {}
        sig = {}
        for g, items in enumerate(groups):
            tools = ["tachy", "pyperf", "timeit"]
            if rnd % 2:
                tools.reverse()
            gname = "+".join(label for label, _, _ in items)
            pyperf_values = {}
            for tool in tools:
                print(f"  round {rnd + 1}: {tool} {gname}", flush=True)
                if tool == "tachy":
                    figures, relative, wall, _ = tachy_stmts(args, py, tmp, items)
                    for label, _, _ in items:
                        fig[label]["tachy"] = figures[label]
                    walls[(gname, "tachy")] = wall
                    for r in relative:
                        comp = r.get("comparison")
                        if comp:
                            sig["tachy"] = {
                                "command": r["command"],
                                "ratio": comp["ratio"]["ratio"],
                                "ci": (comp["ratio"]["ci"]["low"], comp["ratio"]["ci"]["high"]),
                                "p": comp["test"]["p_value"],
                                "significant": comp["significant"],
                                "verdict": r.get("verdict"),
                            }
                elif tool == "pyperf":
                    total = 0.0
                    for label, stmt, setup in items:
                        f, values, wall = pyperf_stmt(args, py, tmp, label, stmt, setup)
                        fig[label]["pyperf"] = f
                        pyperf_values[label] = values
                        total += wall
                    walls[(gname, "pyperf")] = total
                else:
                    total = 0.0
                    for label, stmt, setup in items:
                        f, wall = timeit_stmt(args, py, stmt, setup)
                        fig[label]["timeit"] = f
                        total += wall
                    walls[(gname, "timeit")] = total
            if len(items) == 2:
                a, b = (label for label, _, _ in items)
                significant, t = pyperf_significance(py, pyperf_values[a], pyperf_values[b])
                sig["pyperf"] = {
                    "ratio": ratio(fig[a]["pyperf"]["mean"], fig[b]["pyperf"]["mean"]),
                    "significant": significant,
                    "t": t,
                }
                sig["timeit"] = {"ratio": ratio(fig[a]["timeit"]["min"], fig[b]["timeit"]["min"])}
        per_round.append({"fig": fig, "walls": walls, "sig": sig})
    report_statements(args, per_round)


def report_statements(args, per_round):
    def m(getter):
        vals = []
        for r in per_round:
            try:
                vals.append(getter(r))
            except (KeyError, TypeError):
                vals.append(None)
        return med(vals)

    print(f"\n### Micro-benchmarks (median over {len(per_round)} round(s); pyperf mode: {args.pyperf_mode})\n")
    print("| statement | tool | median/loop | mean/loop | min/loop | values | loops |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    first = per_round[0]["fig"]
    for label, stmt, _ in STATEMENTS:
        for tool in ("tachy", "pyperf", "timeit"):
            f0 = first[label][tool]
            med_ = m(lambda r, label=label, tool=tool: r["fig"][label][tool]["median"])
            mean_ = m(lambda r, label=label, tool=tool: r["fig"][label][tool]["mean"])
            min_ = m(lambda r, label=label, tool=tool: r["fig"][label][tool]["min"])
            values = f0.get("values", "-")
            print(f"| `{stmt}` | {tool} | {fmt_t(med_)} | {fmt_t(mean_)} | {fmt_t(min_)} | {values} | {f0.get('loops', '-')} |")

    print("\n| statement | median tachy/pyperf | mean tachy/pyperf | min tachy/pyperf | timeit best / pyperf min |")
    print("| --- | --- | --- | --- | --- |")
    for label, stmt, _ in STATEMENTS:

        def rr(key, tool, label=label):
            return m(lambda r: ratio(r["fig"][label][tool][key], r["fig"][label]["pyperf"][key]))

        print(f"| `{stmt}` | {fmt_r(rr('median', 'tachy'))} | {fmt_r(rr('mean', 'tachy'))} | {fmt_r(rr('min', 'tachy'))} | {fmt_r(rr('min', 'timeit'))} |")

    print("\n| statements | tachy wall s | pyperf wall s | tachy/pyperf | timeit wall s |")
    print("| --- | --- | --- | --- | --- |")
    gnames = list(dict.fromkeys(g for (g, _) in per_round[0]["walls"]))
    for g in gnames:
        tw = m(lambda r, g=g: r["walls"][(g, "tachy")])
        pw = m(lambda r, g=g: r["walls"][(g, "pyperf")])
        iw = m(lambda r, g=g: r["walls"][(g, "timeit")])
        wr = m(lambda r, g=g: ratio(r["walls"][(g, "tachy")], r["walls"][(g, "pyperf")]))
        print(f"| {g} | {tw:.1f} | {pw:.1f} | {fmt_r(wr)} | {iw:.1f} |")

    print("\nlist vs set:")
    for i, r in enumerate(per_round):
        t = r["sig"].get("tachy", {})
        p = r["sig"].get("pyperf", {})
        ti = r["sig"].get("timeit", {})
        ci = t.get("ci", (None, None))
        print(
            f"  [{i + 1}] tachy {t.get('command')} {t.get('ratio', 0):.0f}x ({ci[0]:.0f}-{ci[1]:.0f}) "
            f"{t.get('verdict')}, p = {t.get('p'):.3g}, significant: {t.get('significant')}; "
            f"pyperf {p.get('ratio', 0):.0f}x (means), significant: {p.get('significant')} (t = {p.get('t', 0):.1f}); "
            f"timeit {ti.get('ratio', 0):.0f}x (bests)"
        )


# ---- pytest ------------------------------------------------------------------------------------


def pytest_runs(args, py, tmp):
    work = os.path.join(tmp, "pytest")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "test_bench.py"), "w") as f:
        f.write(PYTEST_FILE)
    base = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bench.py"]
    env_tachy = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), TACHY_BIN=args.tachy)
    env_plain = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TACHY_BIN")}
    tools = {
        "pytest-benchmark": (base + ["--benchmark-json", "pb.json"], env_plain, "pb.json"),
        "tachy plugin": (base + ["-p", "tachy.pytest_plugin", "-p", "no:benchmark", "--tachy-json", "tachy.json"], env_tachy, "tachy.json"),
    }
    rounds = []
    for rnd in range(args.rounds):
        order = list(tools) if rnd % 2 == 0 else list(reversed(tools))
        walls, stats = {}, {}
        for tool in order:
            cmd, env, out = tools[tool]
            print(f"  round {rnd + 1}: pytest with {tool}", flush=True)
            path = os.path.join(work, out)
            if os.path.exists(path):
                os.unlink(path)
            walls[tool], _ = run(cmd, args.timeout, env=env, cwd=work)
            with open(path) as f:
                stats[tool] = {b["name"]: b["stats"] for b in json.load(f)["benchmarks"]}
        rounds.append((walls, stats))

    print(f"\n### pytest, 3 benchmarks (median over {len(rounds)} round(s))\n")
    print("| session | wall s |")
    print("| --- | --- |")
    for tool in tools:
        print(f"| {tool} | {med([w[tool] for w, _ in rounds]):.2f} |")
    print(f"| ratio tachy/pytest-benchmark | {med([ratio(w['tachy plugin'], w['pytest-benchmark']) for w, _ in rounds]):.3f} |")
    print("\n| benchmark | pytest-benchmark mean | tachy mean | ratio | pytest-benchmark median | tachy median | ratio | rounds x iterations (pb / tachy) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in rounds[0][1]["pytest-benchmark"]:

        def g(tool, key, name=name):
            return med([s[tool][name][key] for _, s in rounds])

        def rr(key, name=name):
            return med([ratio(s["tachy plugin"][name][key], s["pytest-benchmark"][name][key]) for _, s in rounds])

        pb, tb = rounds[0][1]["pytest-benchmark"][name], rounds[0][1]["tachy plugin"][name]
        print(
            f"| {name} | {fmt_t(g('pytest-benchmark', 'mean'))} | {fmt_t(g('tachy plugin', 'mean'))} | {fmt_r(rr('mean'))} "
            f"| {fmt_t(g('pytest-benchmark', 'median'))} | {fmt_t(g('tachy plugin', 'median'))} | {fmt_r(rr('median'))} "
            f"| {pb['rounds']} x {pb['iterations']} / {tb['rounds']} x {tb['iterations']} |"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--tachy", default=default_tachy())
    ap.add_argument("--venv", default="/tmp/tachy-pybench-venv")
    ap.add_argument("--python", default=sys.executable, help="base interpreter of the venv")
    ap.add_argument("--pyperf-mode", choices=["default", "fast", "rigorous"], default="default")
    ap.add_argument("--timeout", type=float, default=600.0, help="bound on each tool run, seconds")
    ap.add_argument("--skip-stmt", action="store_true")
    ap.add_argument("--skip-pytest", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.tachy):
        sys.exit(f"no tachy binary at {args.tachy}: cargo build --release -p tachy, or pass --tachy")
    args.tachy = os.path.abspath(args.tachy)
    py = ensure_venv(args.venv, args.python, args.timeout)
    tmp = tempfile.mkdtemp(prefix="tachy-pybench-")
    print(f"tachy:   {version([args.tachy, '--version'])} ({args.tachy})")
    print(f"pyperf:  {version([py, '-c', 'import pyperf; print(pyperf.__version__)'])}")
    print(f"pytest:  {version([py, '-m', 'pytest', '--version'])}")
    print(f"pytest-benchmark: {version([py, '-c', 'import pytest_benchmark; print(pytest_benchmark.__version__)'])}")
    print(f"python:  {version([py, '--version'])} ({py})")
    print(f"cpus:    {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}\n", flush=True)
    if not args.skip_stmt:
        statements(args, py, tmp)
    if not args.skip_pytest:
        pytest_runs(args, py, tmp)
    print(f"\nscratch files left in {tmp}")


if __name__ == "__main__":
    main()
