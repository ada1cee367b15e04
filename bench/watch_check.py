#!/usr/bin/env python3
"""Hand-run truth and overhead check of `tachy watch`.

Measures on this machine:
  1. truth: the growth `tachy watch` reports for a leak of known rate (exactly 1 MiB kept
     every 100 ms = 37,748,736,000 bytes/h, `crates/tachy/tests/fixtures/watch/leak.py`),
     watched 10 s at 100 ms with a 10 s growth window and a `growth>1GB/h` alert (the verdict's
     threshold): ratio to the truth and `growing`;
     and for an allocate/free cycle with no leak (20 MB mapped and unmapped every 200 ms,
     `cycle.py`): `growing` must be false.
  2. overhead: tachy's own CPU while watching a Python process with 100 threads (each
     sleeping in a loop) at 10 Hz for 30 s, plain, with `--children` and with `--prometheus`
     (scraped once a second): the report's `self_cpu_percent`, cross-checked with the
     utime+stime delta of /proc/<tachy pid>/stat between 1 s after the start and 1 s before
     the end, and with the whole run's rusage (start-up included). Target: under 1% of one core.
  3. real Prometheus: Prometheus scrapes `tachy watch --pid P --prometheus 127.0.0.1:PORT`
     every second; `process_resident_memory_bytes{pid="P"}` queried from Prometheus must be
     within 20% of VmRSS in /proc/P/status. Prometheus comes from `apt-get install -y
     prometheus` when missing (root only; skipped with a message otherwise).

Usage:  python3 bench/watch_check.py [--tachy target/release/tachy] [--reps 3] [--secs 30]
                                     [--skip-truth] [--skip-overhead] [--skip-prometheus]
Everything started here is stopped at the end (try/finally).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "crates", "tachy", "tests", "fixtures", "watch")
LEAK_TRUTH = 10 * 1048576 * 3600  # bytes per hour: 1 MiB every 100 ms
CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = []  # every process started here, stopped in `main`'s finally


def spawn(cmd, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(cmd, **kw)
    STARTED.append(p)
    return p


def stop(p, sig=signal.SIGTERM, limit=10):
    """Signals `p` (when still running) and reaps it, killing it past `limit` seconds."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except ProcessLookupError:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def run_watch(tachy, args, limit=300):
    out = subprocess.run([tachy, "watch", *args], capture_output=True, text=True, timeout=limit)
    if out.returncode not in (0, 1):
        raise SystemExit(f"tachy watch {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def truth(tachy, py, reps):
    print("## 1. Truth of the growth estimate\n")
    print(f"Leak: 1 MiB every 100 ms = {LEAK_TRUTH:,} bytes/h ({LEAK_TRUTH / 2**30:.2f} GiB/h); "
          "watched 10 s at 100 ms, --growth-window 10s.\n")
    print("| run | fixture | reported GiB/h | 95% CI GiB/h | ratio to truth | growing | expected | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    ok = True
    for i in range(reps):
        # Judged at 1 GB/h, a rate 10 s can resolve (5 MB/h would be "not enough data").
        r = run_watch(tachy, ["--interval", "100ms", "--duration", "10s", "--growth-window", "10s",
                              "--alert", "growth>1GB/h", "--json",
                              "--", py, os.path.join(FIXTURES, "leak.py"), "10"])
        g = r["growth"] or {}
        rate = g.get("bytes_per_hour", float("nan"))
        ratio = rate / LEAK_TRUTH
        good = bool(g.get("growing")) and abs(ratio - 1) <= 0.10
        ok &= good
        print(f"| {i + 1} | leak | {rate / 2**30:.2f} | {g.get('low_bytes_per_hour', 0) / 2**30:.2f}-"
              f"{g.get('high_bytes_per_hour', 0) / 2**30:.2f} | {ratio:.3f} | {g.get('growing')} | "
              f"true, ratio 0.9-1.1 | {'PASS' if good else 'FAIL'} |")
    for i in range(reps):
        r = run_watch(tachy, ["--interval", "100ms", "--growth-window", "10s", "--json",
                              "--", py, os.path.join(FIXTURES, "cycle.py"), "7"])
        g = r["growth"] or {}
        good = g.get("growing") is False
        ok &= good
        print(f"| {i + 1} | cycle | {g.get('bytes_per_hour', float('nan')) / 2**30:.3f} | "
              f"{g.get('low_bytes_per_hour', 0) / 2**30:.3f}-{g.get('high_bytes_per_hour', 0) / 2**30:.3f} | - | "
              f"{g.get('growing')} | false | {'PASS' if good else 'FAIL'} |")
    print()
    return ok


def scrape_loop(port, stop_event):
    while not stop_event.wait(1.0):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        except OSError:
            pass


def overhead_once(tachy, py, secs, extra, tmp, label):
    target = spawn([py, os.path.join(FIXTURES, "threads.py"), str(secs + 15), "100"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let the 100 threads start
    port = None
    args = ["--pid", str(target.pid), "--interval", "100ms", "--duration", f"{secs}s", "--json", *extra]
    if "--prometheus" in extra:
        port = free_port()
        args[args.index("--prometheus") + 1] = f"127.0.0.1:{port}"
    report_path = os.path.join(tmp, f"overhead-{label}.json")
    stop_event = threading.Event()
    scraper = None
    try:
        with open(report_path, "w") as out:
            t0 = time.monotonic()
            w = spawn([tachy, "watch", *args], stdout=out, stderr=subprocess.DEVNULL)
            if port:
                scraper = threading.Thread(target=scrape_loop, args=(port, stop_event), daemon=True)
                scraper.start()
            time.sleep(1.0)
            a, ta = cpu_ticks(w.pid), time.monotonic()
            time.sleep(max(0.0, secs - 2.0))
            b, tb = cpu_ticks(w.pid), time.monotonic()
            # wait4 gives the whole run's rusage (start-up and report included).
            _, status, ru = os.wait4(w.pid, 0)
            w.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - t0
        with open(report_path) as f:
            r = json.load(f)
    finally:
        stop_event.set()
        if scraper:
            scraper.join(timeout=5)
        stop(target)
    proc_pct = (b - a) / CLK_TCK / (tb - ta) * 100 if a is not None and b is not None else float("nan")
    rusage_pct = (ru.ru_utime + ru.ru_stime) / wall * 100
    return r, proc_pct, rusage_pct


def overhead(tachy, py, secs, tmp):
    print("## 2. Overhead (a Python process with 100 threads, 10 Hz)\n")
    print(f"{secs} s per variant; /proc delta from 1 s after the start to 1 s before the end; rusage = "
          "whole run incl. start-up. Target: under 1% of one core.\n")
    print("| variant | samples | self_cpu_percent (report) | /proc/<tachy>/stat delta | rusage, whole run | verdict |")
    print("| --- | --- | --- | --- | --- | --- |")
    ok = True
    for label, extra in [("plain", []), ("--children", ["--children"]), ("--prometheus (scraped 1/s)", ["--prometheus", "PORT"])]:
        r, proc_pct, rusage_pct = overhead_once(tachy, py, secs, extra, tmp, label.split()[0].strip("-"))
        good = r["self_cpu_percent"] < 1.0 and proc_pct < 1.0
        ok &= good
        print(f"| {label} | {r['samples']} | {r['self_cpu_percent']:.2f}% | {proc_pct:.2f}% | {rusage_pct:.2f}% | "
              f"{'PASS' if good else 'FAIL'} |")
    print()
    return ok


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def real_prometheus(tachy, py, tmp):
    print("## 3. Real Prometheus\n")
    prom = shutil.which("prometheus")
    if prom is None:
        if os.geteuid() != 0:
            print("SKIP: `prometheus` is not installed and installing it needs root "
                  "(`apt-get install -y prometheus`).\n")
            return None
        print("Installing Prometheus: apt-get install -y prometheus")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        inst = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "prometheus"],
                              env=env, capture_output=True, text=True)
        prom = shutil.which("prometheus")
        if inst.returncode != 0 or prom is None:
            print(f"SKIP: apt-get install failed: {inst.stderr.strip()[-500:]}\n")
            return None
    version = subprocess.run([prom, "--version"], capture_output=True, text=True).stdout.splitlines()
    print(f"Prometheus: {version[0] if version else prom}")
    port, port2 = free_port(), free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: tachy\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{port}']\n")
    # A steady 50 MiB resident (every page written), so RSS does not move between the
    # scrape and the /proc read.
    code = "import time\nx = bytearray(50 << 20)\nx[::4096] = b'\\x01' * len(range(0, 50 << 20, 4096))\ntime.sleep(600)\n"
    target = spawn([py, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
    server = spawn([prom, f"--config.file={cfg}", f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                    f"--web.listen-address=127.0.0.1:{port2}"], stdout=prom_log, stderr=subprocess.STDOUT)
    w = spawn([tachy, "watch", "--pid", str(target.pid), "--interval", "1s", "--prometheus", f"127.0.0.1:{port}",
               "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port2}/api/v1"
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline:
            try:
                targets = get_json(f"{api}/targets")["data"]["activeTargets"]
                health = targets[0]["health"] if targets else None
                if health == "up":
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        print(f"scrape target 127.0.0.1:{port}: {health}")
        if health != "up":
            print("FAIL: the target never came up\n")
            return False
        value = None
        query = urllib.parse.quote(f'process_resident_memory_bytes{{pid="{target.pid}"}}')
        while time.monotonic() < deadline and value is None:
            try:
                result = get_json(f"{api}/query?query={query}")["data"]["result"]
                value = float(result[0]["value"][1]) if result else None
            except (OSError, ValueError, KeyError, IndexError):
                pass
            if value is None:
                time.sleep(0.5)
        truth_rss = vm_rss(target.pid)
        if value is None:
            print("FAIL: Prometheus has no process_resident_memory_bytes for the pid\n")
            return False
        ratio = value / truth_rss
        good = abs(ratio - 1) <= 0.20
        print(f"process_resident_memory_bytes{{pid=\"{target.pid}\"}} = {value / 2**20:.1f} MiB; "
              f"VmRSS = {truth_rss / 2**20:.1f} MiB; ratio {ratio:.3f} -> {'PASS' if good else 'FAIL'}\n")
        return good
    finally:
        stop(w, signal.SIGINT)
        stop(server)
        stop(target)
        prom_log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "tachy")
    ap.add_argument("--tachy", default=default)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reps", type=int, default=3, help="runs of each truth fixture")
    ap.add_argument("--secs", type=int, default=30, help="seconds per overhead variant")
    ap.add_argument("--skip-truth", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--skip-prometheus", action="store_true")
    args = ap.parse_args()
    if not os.access(args.tachy, os.X_OK):
        raise SystemExit(f"no tachy binary at {args.tachy}: build it (cargo build --release) or pass --tachy")
    print(f"tachy: {args.tachy}\npython: {args.python}\n")
    tmp = tempfile.mkdtemp(prefix="tachy-watch-check-")
    verdicts = {}
    try:
        if not args.skip_truth:
            verdicts["truth"] = truth(args.tachy, args.python, args.reps)
        if not args.skip_overhead:
            verdicts["overhead"] = overhead(args.tachy, args.python, args.secs, tmp)
        if not args.skip_prometheus:
            verdicts["prometheus"] = real_prometheus(args.tachy, args.python, tmp)
    finally:
        for p in STARTED:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("## Summary\n")
    for k, v in verdicts.items():
        print(f"- {k}: {'SKIP' if v is None else 'PASS' if v else 'FAIL'}")
    return 0 if all(v is not False for v in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
