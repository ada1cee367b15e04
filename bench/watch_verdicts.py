#!/usr/bin/env python3
"""Hand-run A/A and A/B check of the growth verdicts of `tachy watch`.

  (a) A/A, never GROWING: a real server that warms up and then stays flat. A fresh uvicorn
      serving a small FastAPI app (from a venv with fastapi and uvicorn, `--venv`) is watched
      with `tachy watch --pid` from its first second, at 500 ms, while `tachy load` drives it
      from second 1 (a `/fast` then a `/slow` endpoint, `--load-secs` each, 20 connections),
      then idles to the end of `--aa-secs`. The thread pool and the first requests step the
      RSS up (the warm-up); the verdict must be `flat` or `not_enough_data`, never `growing`.
  (b) A/B, GROWING at the true rate: a Python program that steps 20 MiB at 2 s (the warm-up)
      and then keeps 100 MB/h (27,778 bytes a second, in 10 pieces a second, every page
      written), watched `--ab-secs` (2 minutes) at 1 s by launching it. The verdict must be
      `growing` (judged at the default 5 MB/h), with a rate within 20% of 100 MB/h.

Usage:  python3 bench/watch_verdicts.py [--tachy target/release/tachy] [--venv /work/venv-black]
                                         [--aa-reps 5] [--ab-reps 2] [--aa-secs 20] [--ab-secs 120]
Everything started here is stopped at the end (try/finally). Exit 0 when every run passed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

# Process helpers shared with the other watch benchmark (same folder): every process started
# through `spawn` is in `STARTED`, stopped in `main`'s finally.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from watch_check import STARTED, free_port, spawn, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

APP = '''
import hashlib
from fastapi import FastAPI

app = FastAPI()


@app.get("/fast")
def fast():
    return {"ok": True}


@app.get("/slow")
def slow():
    data = b"x" * 10_000
    for _ in range(200):
        data = hashlib.sha256(data).digest() * 300
    return {"digest": hashlib.sha256(data).hexdigest()}
'''

LEAKER = '''
import sys
import time

STEP = 20 * 1024 * 1024           # the warm-up: 20 MiB at 2 s
RATE = 100e6 / 3600               # then 100 MB/h, in bytes per second
PIECES = 10                       # pieces a second
PAGE = 4096

seconds = float(sys.argv[1])
kept = []
start = time.monotonic()
time.sleep(2.0)
block = bytearray(STEP)
block[::PAGE] = b"\\x01" * len(range(0, STEP, PAGE))
kept.append(block)
leak_start = time.monotonic()
k = 0
while time.monotonic() - start < seconds:
    due = leak_start + k / PIECES
    now = time.monotonic()
    if now < due:
        time.sleep(due - now)
        continue
    # Bytes owed by now on a deadline schedule, so the rate does not drift.
    owed = int(RATE * (k + 1) / PIECES) - int(RATE * k / PIECES)
    piece = bytearray(owed)
    piece[::PAGE] = b"\\x01" * len(range(0, owed, PAGE))
    kept.append(piece)
    k += 1
'''


def wait_ready(url, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} never answered")


def mib(b):
    return f"{b / 2**20:.1f}"


def rate(b):
    return f"{b / 1e6:+.1f}"


def describe(g):
    w = g.get("warmup")
    warm = f"{w['from_secs']:.1f}-{w['to_secs']:.1f} s, {mib(w['before_bytes'])}->{mib(w['after_bytes'])} MiB" if w else "-"
    return (f"{rate(g['bytes_per_hour'])} [{rate(g['low_bytes_per_hour'])}, {rate(g['high_bytes_per_hour'])}] | "
            f"±{g['resolution_bytes_per_hour'] / 1e6:.1f} | {g['window_secs']:.1f} | {warm} | {g['verdict']}")


def aa(tachy, venv_py, reps, secs, load_secs):
    print("## (a) A/A: uvicorn warming up under load, then flat\n")
    print(f"`tachy watch --pid` at 500 ms for {secs} s from the server's first second; `tachy load -c 20` "
          f"on /fast then /slow for {load_secs} s each from second 1. Never `growing`.\n")
    print("| run | growth MB/h [95% CI] | resolution MB/h | fitted s | warm-up excluded | verdict | result |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "app.py"), "w") as f:
            f.write(APP)
        for i in range(reps):
            port = free_port()
            server = spawn([venv_py, "-m", "uvicorn", "app:app", "--port", str(port), "--log-level", "warning"],
                           cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            watch = spawn([tachy, "watch", "--pid", str(server.pid), "--duration", f"{secs}s",
                           "--interval", "500ms", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                wait_ready(f"http://127.0.0.1:{port}/fast")
                time.sleep(1.0)
                for path in ("fast", "slow"):
                    subprocess.run([tachy, "load", "-c", "20", "-d", f"{load_secs}s", "--json",
                                    f"http://127.0.0.1:{port}/{path}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
                out, err = watch.communicate(timeout=secs + 60)
            finally:
                stop(watch)
                stop(server)
            g = json.loads(out)["growth"]
            good = g is not None and g["verdict"] != "growing"
            ok &= good
            print(f"| {i + 1} | {describe(g) if g else 'none | | | | |'} | {'PASS' if good else 'FAIL'} |")
            if g:
                print(f"|   | {g['reason']} | | | | | |")
    print()
    return ok


def ab(tachy, py, reps, secs):
    truth = 100e6
    print("## (b) A/B: a 20 MiB warm-up step, then a steady leak of 100 MB/h\n")
    print(f"Launched and watched at 1 s for {secs} s. `growing`, rate within 20% of 100 MB/h.\n")
    print("| run | growth MB/h [95% CI] | resolution MB/h | fitted s | warm-up excluded | verdict | ratio | result |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        leaker = os.path.join(tmp, "leaker.py")
        with open(leaker, "w") as f:
            f.write(LEAKER)
        for i in range(reps):
            out = subprocess.run([tachy, "watch", "--duration", f"{secs}s", "--interval", "1s", "--json", "--",
                                  py, leaker, str(secs + 30)], capture_output=True, text=True, timeout=secs + 120)
            if out.returncode not in (0, 1):
                raise SystemExit(f"tachy watch failed ({out.returncode}): {out.stderr.strip()}")
            g = json.loads(out.stdout)["growth"]
            ratio = g["bytes_per_hour"] / truth
            good = g["verdict"] == "growing" and abs(ratio - 1) <= 0.20
            ok &= good
            print(f"| {i + 1} | {describe(g)} | {ratio:.3f} | {'PASS' if good else 'FAIL'} |")
    print()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tachy", default=os.path.join(ROOT, "target", "release", "tachy"))
    ap.add_argument("--python", default=sys.executable, help="interpreter of the A/B program")
    ap.add_argument("--venv", default="/work/venv-black", help="a venv with fastapi and uvicorn")
    ap.add_argument("--aa-reps", type=int, default=5)
    ap.add_argument("--ab-reps", type=int, default=2)
    ap.add_argument("--aa-secs", type=int, default=20)
    ap.add_argument("--load-secs", type=int, default=5)
    ap.add_argument("--ab-secs", type=int, default=120)
    ap.add_argument("--skip-aa", action="store_true")
    ap.add_argument("--skip-ab", action="store_true")
    a = ap.parse_args()
    venv_py = os.path.join(a.venv, "bin", "python")
    ok = True
    try:
        if not a.skip_aa:
            ok &= aa(a.tachy, venv_py, a.aa_reps, a.aa_secs, a.load_secs)
        if not a.skip_ab:
            ok &= ab(a.tachy, a.python, a.ab_reps, a.ab_secs)
    finally:
        for p in STARTED:
            stop(p)
    print("ALL PASS" if ok else "SOME FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
