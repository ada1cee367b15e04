#!/usr/bin/env python3
"""`tachy load` side by side with wrk (and oha when it is on PATH) on 127.0.0.1.

Run by hand on a quiet machine after `cargo build --release`:

    python3 bench/load_vs_wrk.py [--rounds 3] [--duration 10] [--skip-uvicorn] [--skip-10k]

What it measures (the load tool and the server share the machine's cores):
  1. Throughput: req/s, p50 and p99 with -c 50 for --duration seconds against Debian's nginx
     (one worker, a 12-byte `return 200`) and a hello-world uvicorn app (one worker), rounds
     alternating between the tools; medians and the tachy/wrk ratio.
  2. Truth: against tachy-test-server answering after exactly 10 ms, tachy's p50 (should be
     10-12 ms); against a server that stalls for 1 s, the open model's corrected p99 (shows the
     stall) next to the closed model's (coordinated omission: only one request per
     connection waits) and wrk's, each checked against Little's law.
  3. Memory: tachy's peak RSS holding 10,000 connections to nginx (and wrk's, for scale).

Needs: `apt-get install nginx-light wrk`; uvicorn is installed into a venv under /tmp.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/tachy/target"))
TACHY = TARGET / "release" / "tachy"
TEST_SERVER = TARGET / "release" / "tachy-test-server"

APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"12")]})
    await send({"type": "http.response.body", "body": b"hello world\\n"})
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, limit=15.0):
    end = time.time() + limit
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"server on port {port} did not come up")


def start_nginx(tmp, port, connections=20000):
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
daemon off;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
worker_rlimit_nofile {connections * 2};
events {{ worker_connections {connections}; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port} backlog=4096; location / {{ return 200 "hello world\\n"; }} }}
}}
"""
    )
    p = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def start_uvicorn(tmp, port):
    venv = Path("/tmp/tachy-bench-venv")
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "uvicorn[standard]"], check=True)
    (tmp / "hello_app.py").write_text(APP)
    p = subprocess.Popen(
        [str(py), "-m", "uvicorn", "hello_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return p


def stop(p):
    """SIGTERM (nginx's master then stops its workers) and wait."""
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        stop(p)
        p.wait()


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def run_wrk(url, conns, secs):
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--latency", url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return rps, p50, p99


def run_oha(url, conns, secs):
    out = subprocess.run(["oha", "--no-tui", "-j", "-c", str(conns), "-z", f"{secs}s", url],
                         capture_output=True, text=True).stdout
    j = json.loads(out)
    return j["summary"]["requestsPerSec"], j["latencyPercentiles"]["p50"] * 1000, j["latencyPercentiles"]["p99"] * 1000


def run_tachy(url, conns, secs, extra=()):
    out = subprocess.run([str(TACHY), "load", url, "-c", str(conns), "-d", f"{secs}s", "--json", *extra],
                         capture_output=True, text=True)
    j = json.loads(out.stdout)
    t = j["totals"]
    return t["rps"], t["latency"]["p50_ms"], t["latency"]["p99_ms"], j


def peak_rss_mib(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss / 1024


def throughput(name, url, tools, rounds, secs):
    results = {t: [] for t in tools}
    for r in range(rounds):
        order = tools if r % 2 == 0 else list(reversed(tools))
        for tool in order:
            if tool == "wrk":
                results[tool].append(run_wrk(url, 50, secs))
            elif tool == "oha":
                results[tool].append(run_oha(url, 50, secs))
            else:
                results[tool].append(run_tachy(url, 50, secs)[:3])
            time.sleep(1)
    print(f"\n{name}: -c 50, {secs} s, median of {rounds} alternating rounds")
    print(f"  {'tool':<6} {'req/s':>10} {'range':>22} {'p50 ms':>8} {'p99 ms':>8}")
    med = {}
    for tool, rs in results.items():
        rps = [x[0] for x in rs]
        med[tool] = statistics.median(rps)
        print(f"  {tool:<6} {med[tool]:>10.0f} {min(rps):>10.0f}-{max(rps):<10.0f} "
              f"{statistics.median(x[1] for x in rs):>8.2f} {statistics.median(x[2] for x in rs):>8.2f}")
    print(f"  ratio tachy/wrk req/s: {med['tachy'] / med['wrk']:.2f}")


def truth(tmp):
    def server(*args):
        p = subprocess.Popen([str(TEST_SERVER), *args], stdout=subprocess.PIPE, text=True)
        return p, p.stdout.readline().strip()

    p, url = server("--delay", "10ms")
    try:
        _, p50, p99, _ = run_tachy(url, 10, 5)
        print(f"\nTruth, server answering after exactly 10 ms: tachy p50 {p50:.2f} ms (expected 10-12), p99 {p99:.2f} ms")
    finally:
        stop(p)
    p, url = server("--stall-after", "2s", "--stall", "1s")
    try:
        _, _, p99_open, j = run_tachy(url, 20, 5, ("--rate", "200"))
        s = j["schedule"]
        print(f"Truth, server stalling 1 s at t=2 s, open model 200 req/s: corrected p99 {p99_open:.0f} ms "
              f"(the stall shows), {s['late']} late, max lateness {s['max_lateness_ms']:.0f} ms")
    finally:
        stop(p)
    p, url = server("--stall-after", "2s", "--stall", "1s")
    try:
        rps, _, p99_closed, j = run_tachy(url, 20, 5)
        mean = j["totals"]["latency"]["mean_ms"]
        print(f"  tachy closed model on the same server: p99 {p99_closed:.1f} ms (only one request per connection "
              f"waited); Little's law: {rps:.0f} req/s x mean {mean:.2f} ms = {rps * mean / 1000:.1f} requests in flight (20 connections)")
    finally:
        stop(p)
    p, url = server("--stall-after", "2s", "--stall", "1s")
    try:
        out = subprocess.run(["wrk", "-t2", "-c20", "-d5s", "--latency", url], capture_output=True, text=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        mean = ms(re.search(r"^\s+Latency\s+(\S+)", out, re.M).group(1))
        p99_wrk = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
        print(f"  wrk (closed) on the same server: p99 {p99_wrk:.1f} ms; Little's law: {rps:.0f} req/s x mean "
              f"{mean:.2f} ms = {rps * mean / 1000:.1f} requests in flight (20 connections)")
    finally:
        stop(p)


def memory(tmp):
    port = free_port()
    ng = start_nginx(tmp / "ng10k", port) if (tmp / "ng10k").mkdir() is None else None
    try:
        url = f"http://127.0.0.1:{port}/"
        tachy = peak_rss_mib([str(TACHY), "load", url, "-c", "10000", "-d", "5s", "--json"])
        wrk = peak_rss_mib(["wrk", "-t2", "-c10000", "-d5s", url])
        print(f"\nMemory at 10,000 connections (peak RSS): tachy {tachy:.1f} MiB, wrk {wrk:.1f} MiB")
    finally:
        stop(ng)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--skip-uvicorn", action="store_true")
    ap.add_argument("--skip-10k", action="store_true")
    ap.add_argument("--skip-truth", action="store_true")
    args = ap.parse_args()
    for exe in (TACHY, TEST_SERVER):
        if not exe.exists():
            sys.exit(f"{exe} missing: run `cargo build --release -p tachy -p tachy-test` first")
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing: apt-get install nginx-light wrk")
    tools = ["tachy", "wrk"] + (["oha"] if shutil.which("oha") else [])
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = free_port()
        (tmp / "ng").mkdir()
        ng = start_nginx(tmp / "ng", port)
        try:
            throughput("nginx (1 worker)", f"http://127.0.0.1:{port}/", tools, args.rounds, args.duration)
        finally:
            stop(ng)
        if not args.skip_uvicorn:
            port = free_port()
            uv = start_uvicorn(tmp, port)
            try:
                throughput("uvicorn hello-world (1 worker)", f"http://127.0.0.1:{port}/", tools, args.rounds, args.duration)
            finally:
                stop(uv)
        if not args.skip_truth:
            truth(tmp)
        if not args.skip_10k:
            memory(tmp)


if __name__ == "__main__":
    main()
