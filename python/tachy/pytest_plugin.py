"""pytest plugin: a pytest-benchmark compatible ``benchmark`` fixture analysed by tachy.

The fixture only measures: it calibrates the iterations per round like timeit's autorange,
runs rounds until a minimum time, and keeps every round's time. At the end of the session the
raw timings of all benchmarks go to the tachy binary once (``tachy bench --from-raw``), which
computes the statistics, compares with a saved baseline, gates regressions and writes the
exports, exactly as for ``tachy bench``. See docs/pytest.md.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import inspect
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import pytest

from tachy import BinaryNotFound, find_binary

try:  # CPU time per round; not on Windows.
    import resource
except ImportError:  # pragma: no cover
    resource = None

RAW_SCHEMA = "tachy-bench-raw/1"
DEFAULT_MIN_TIME = 1.0
DEFAULT_ROUND_TIME = 0.005
DEFAULT_MIN_ROUNDS = 5
MAX_ROUNDS = 1_000_000
_STATE = pytest.StashKey()


class FixtureAlreadyUsed(Exception):
    """The benchmark fixture measures one function per test."""


def _pytest_benchmark_installed():
    import importlib.util

    return importlib.util.find_spec("pytest_benchmark") is not None


def pytest_addoption(parser, pluginmanager):
    group = parser.getgroup("tachy", "tachy benchmarks (the `benchmark` fixture)")
    group.addoption("--tachy-save", metavar="NAME", help="save the results as the tachy baseline NAME")
    group.addoption(
        "--tachy-compare",
        metavar="NAME",
        help="compare with the tachy baseline NAME; the session fails on a significant regression over --tachy-max-regression",
    )
    group.addoption(
        "--tachy-max-regression",
        metavar="PERCENT",
        default="5%",
        help="largest slowdown --tachy-compare tolerates (default 5%%)",
    )
    group.addoption(
        "--tachy-baseline-dir",
        metavar="DIR",
        help="where baselines live (default: .tachy/baselines under pytest's rootdir)",
    )
    group.addoption("--tachy-json", metavar="FILE", help="write the results in pytest-benchmark's JSON format")
    group.addoption("--tachy-export-json", metavar="FILE", help="write tachy's bench report (tachy-bench/1 JSON)")
    group.addoption("--tachy-raw", metavar="FILE", help="also keep the raw per-round timings handed to tachy")
    group.addoption(
        "--tachy-min-time",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"time each benchmark's rounds add up to at least (default {DEFAULT_MIN_TIME})",
    )
    group.addoption(
        "--tachy-round-time",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"calibration: iterations per round make a round last at least this (default {DEFAULT_ROUND_TIME})",
    )
    group.addoption(
        "--tachy-min-rounds",
        metavar="N",
        type=int,
        default=None,
        help=f"at least this many rounds (default {DEFAULT_MIN_ROUNDS})",
    )
    group.addoption("--tachy-warmup", metavar="N", type=int, default=0, help="untimed rounds before the timed ones")
    group.addoption("--tachy-disable-gc", action="store_true", help="turn the garbage collector off during rounds")
    group.addoption(
        "--tachy-metric",
        choices=["wall", "cpu"],
        default="wall",
        help="what comparisons and the gate compare: wall time or CPU time (default wall)",
    )
    group.addoption("--tachy-disable", action="store_true", help="call benchmarked functions once, untimed")
    group.addoption("--tachy-skip", action="store_true", help="skip the tests that use the benchmark fixture")
    group.addoption("--tachy-only", action="store_true", help="run only the tests that use the benchmark fixture")
    if not _pytest_benchmark_installed() or pluginmanager.is_blocked("benchmark"):
        # Drop-in names for scripts written for pytest-benchmark (absent when it is installed
        # and active, so the two never claim the same option; `-p no:benchmark` switches over).
        group.addoption("--benchmark-json", dest="tachy_json", metavar="FILE", help="alias of --tachy-json")
        group.addoption("--benchmark-disable", dest="tachy_disable", action="store_true", help="alias of --tachy-disable")
        group.addoption("--benchmark-skip", dest="tachy_skip", action="store_true", help="alias of --tachy-skip")
        group.addoption("--benchmark-only", dest="tachy_only", action="store_true", help="alias of --tachy-only")


class _State:
    def __init__(self, config):
        self.config = config
        self.benchmarks = []
        self.started_at = None
        self.output = []
        self.failed = False
        self.binary = None
        self.binary_error = None

    def option(self, name):
        return self.config.getoption(name)

    def baseline_dir(self):
        d = self.option("tachy_baseline_dir")
        if d:
            return os.path.abspath(d)
        return os.path.join(str(self.config.rootpath), ".tachy", "baselines")

    def find_binary(self):
        if self.binary is None and self.binary_error is None:
            try:
                self.binary = find_binary()
            except BinaryNotFound as e:
                self.binary_error = str(e)
        if self.binary_error:
            raise BinaryNotFound(self.binary_error)
        return self.binary


def pytest_configure(config):
    state = _State(config)
    config.stash[_STATE] = state
    if not config.pluginmanager.hasplugin("benchmark"):
        config.addinivalue_line(
            "markers",
            "benchmark(group=None, min_rounds=None, max_time=None, min_time=None, disable_gc=False, warmup=False): "
            "options of the tachy benchmark fixture",
        )
        from tachy import _pytest_alias

        config.pluginmanager.register(_pytest_alias, "tachy-benchmark-alias")
    compare = config.getoption("tachy_compare")
    if compare and not hasattr(config, "workerinput"):
        path = os.path.join(state.baseline_dir(), compare + ".json")
        if not os.path.isfile(path):
            raise pytest.UsageError(
                f"no tachy baseline named '{compare}' (looked for {path}); create it with --tachy-save {compare}"
            )
    if config.getoption("tachy_skip") and config.getoption("tachy_only"):
        raise pytest.UsageError("--tachy-skip and --tachy-only exclude each other")


def _uses_benchmark(item):
    names = getattr(item, "fixturenames", ())
    return "benchmark" in names or "tachy_benchmark" in names


def pytest_collection_modifyitems(config, items):
    skip, only = config.getoption("tachy_skip"), config.getoption("tachy_only")
    if not (skip or only):
        return
    for item in items:
        uses = _uses_benchmark(item)
        if skip and uses:
            item.add_marker(pytest.mark.skip(reason="benchmark skipped (--tachy-skip)"))
        elif only and not uses:
            item.add_marker(pytest.mark.skip(reason="not a benchmark (--tachy-only)"))


class _Stats(dict):
    """Descriptive figures of the rounds just measured (pytest-benchmark's ``benchmark.stats``);
    tachy's own statistics are computed at the end of the session."""

    @property
    def stats(self):
        return self

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _describe(times, iterations):
    data = sorted(times)
    n = len(data)
    mean = sum(data) / n
    mid = n // 2
    median = data[mid] if n % 2 else (data[mid - 1] + data[mid]) / 2
    stddev = math.sqrt(sum((x - mean) ** 2 for x in data) / (n - 1)) if n > 1 else 0.0
    return _Stats(
        min=data[0],
        max=data[-1],
        mean=mean,
        median=median,
        stddev=stddev,
        rounds=n,
        iterations=iterations,
        total=sum(data),
        ops=1.0 / mean if mean > 0 else 0.0,
        data=list(times),
    )


def _cpu():
    if resource is None:
        return 0.0, 0.0
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def _cpu_per(c0, c1, loops):
    """User and system CPU time per iteration between two ``_cpu()`` readings."""
    return max(0.0, c1[0] - c0[0]) / loops, max(0.0, c1[1] - c0[1]) / loops


def _gc_counts():
    """Collections so far per generation (read outside the measured windows)."""
    return [g["collections"] for g in gc.get_stats()]


def _maxrss():
    if resource is None:
        return 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _is_async(fn):
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


def _json_safe(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class BenchmarkFixture:
    """What the ``benchmark`` fixture gives a test (pytest-benchmark's common API)."""

    def __init__(self, node, state):
        self._state = state
        self._node = node
        marker = node.get_closest_marker("benchmark")
        opts = dict(marker.kwargs) if marker else {}
        option = state.option
        self.name = node.name
        self.fullname = node.nodeid
        callspec = getattr(node, "callspec", None)
        self.params = {k: _json_safe(v) for k, v in callspec.params.items()} if callspec else None
        self.param = callspec.id if callspec else None
        self.group = opts.get("group")
        self.extra_info = {}
        self.stats = None
        self.disabled = bool(option("tachy_disable"))
        self._min_time = _pick(option("tachy_min_time"), opts.get("max_time"), DEFAULT_MIN_TIME)
        self._round_time = _pick(option("tachy_round_time"), opts.get("min_time"), DEFAULT_ROUND_TIME)
        self._min_rounds = max(1, int(_pick(option("tachy_min_rounds"), opts.get("min_rounds"), DEFAULT_MIN_ROUNDS)))
        warmup = option("tachy_warmup") or opts.get("warmup_iterations") or (1 if opts.get("warmup") else 0)
        self._warmup = max(0, int(warmup))
        self._disable_gc = bool(option("tachy_disable_gc") or opts.get("disable_gc"))
        self._used = False
        self._record = None

    # -- the API ---------------------------------------------------------------------------

    def __call__(self, function_to_benchmark, *args, **kwargs):
        """Benchmarks ``function_to_benchmark(*args, **kwargs)`` and returns its result.

        A coroutine function is awaited in a fresh event loop, and the awaited call is timed."""
        self._start()
        if _is_async(function_to_benchmark):
            with _Loop() as loop:
                return self._auto(_async_runner(loop, function_to_benchmark, args, kwargs))
        return self._auto(_sync_runner(function_to_benchmark, args, kwargs))

    def pedantic(self, target, args=(), kwargs=None, setup=None, teardown=None, rounds=1, warmup_rounds=0, iterations=1):
        """Benchmarks ``target`` with exactly ``rounds`` rounds of ``iterations`` calls each,
        after ``warmup_rounds`` untimed rounds. ``setup()`` runs before each round (untimed) and
        may return ``(args, kwargs)`` for it; ``teardown(*args, **kwargs)`` runs after it."""
        self._start()
        kwargs = dict(kwargs or {})
        args = tuple(args)
        if rounds < 1 or iterations < 1 or warmup_rounds < 0:
            raise ValueError("rounds and iterations must be at least 1, warmup_rounds at least 0")
        if setup is not None and iterations > 1:
            raise ValueError("Can't use more than 1 `iterations` with a `setup` function.")
        if _is_async(target):
            with _Loop() as loop:
                return self._pedantic(target, args, kwargs, setup, teardown, rounds, warmup_rounds, iterations, loop)
        return self._pedantic(target, args, kwargs, setup, teardown, rounds, warmup_rounds, iterations, None)

    # -- measurement -----------------------------------------------------------------------

    def _start(self):
        if self._used:
            raise FixtureAlreadyUsed(
                "the benchmark fixture can only be used once per test; use separate tests (or parametrize) to benchmark several functions"
            )
        self._used = True

    def _auto(self, runner):
        if self.disabled:
            return runner(1)[2]
        # Calibration, like timeit's autorange: 1, 2, 5, 10, 20, 50, ... iterations until a round
        # lasts the round time. The first call's result is the one returned. Calibration and
        # warmup rounds are the untimed warmup.
        untimed = 0
        result = None
        loops = 0
        base = 1
        while not loops:
            for factor in (1, 2, 5):
                n = base * factor
                elapsed, _, value = runner(n)
                if untimed == 0:
                    result = value
                untimed += 1
                if elapsed >= self._round_time or n >= 10**9:
                    loops = n
                    break
            base *= 10
        for _ in range(self._warmup):
            runner(loops)
            untimed += 1
        times, users, systems, rss, gcs = [], [], [], [], []
        total = 0.0
        gc_was = gc.isenabled()
        if self._disable_gc:
            gc.disable()
        try:
            kept = None
            while (total < self._min_time or len(times) < self._min_rounds) and len(times) < MAX_ROUNDS:
                # The previous round's result is freed here, outside both clocks' windows (the
                # runner reads wall and CPU time at the same points), so a large result's
                # deallocation is charged to neither.
                kept = None
                g0 = _gc_counts()
                elapsed, (user, system), kept = runner(loops)
                g1 = _gc_counts()
                total += elapsed
                times.append(elapsed / loops)
                users.append(user)
                systems.append(system)
                rss.append(_maxrss())
                gcs.append([b - a for a, b in zip(g0, g1)])
            kept = None
        finally:
            if gc_was and self._disable_gc:
                gc.enable()
        self._finish(times, users, systems, rss, loops, untimed, gcs)
        return result

    def _pedantic(self, target, args, kwargs, setup, teardown, rounds, warmup_rounds, iterations, loop):
        if self.disabled:
            rounds, warmup_rounds = 1, 0
        times, users, systems, rss, gcs = [], [], [], [], []
        result = None
        gc_was = gc.isenabled()
        for i in range(warmup_rounds + rounds):
            # The previous round's result is freed outside the measured windows.
            result = None
            call_args, call_kwargs = args, kwargs
            if setup is not None:
                maybe = setup()
                if maybe is not None:
                    if args or kwargs:
                        raise TypeError("Can't use `args` or `kwargs` if `setup` returns the arguments.")
                    call_args, call_kwargs = maybe
            if self._disable_gc:
                gc.disable()
            try:
                g0 = _gc_counts()
                if loop is None:
                    elapsed, (user, system), result = _timed_sync(target, call_args, call_kwargs, iterations)
                else:
                    elapsed, (user, system), result = loop.run_until_complete(
                        _timed_async(target, call_args, call_kwargs, iterations)
                    )
                g1 = _gc_counts()
            finally:
                if gc_was and self._disable_gc:
                    gc.enable()
            if teardown is not None:
                teardown(*call_args, **call_kwargs)
            if i >= warmup_rounds:
                times.append(elapsed / iterations)
                users.append(user)
                systems.append(system)
                rss.append(_maxrss())
                gcs.append([b - a for a, b in zip(g0, g1)])
        if not self.disabled:
            self._finish(times, users, systems, rss, iterations, warmup_rounds, gcs)
        return result

    def _finish(self, times, users, systems, rss, iterations, warmup_rounds, gcs):
        self.stats = _describe(times, iterations)
        self._record = {
            "times": times,
            "user_times": users,
            "system_times": systems,
            "max_rss": rss,
            "iterations": iterations,
            "warmup_runs": warmup_rounds,
        }
        if not self._disable_gc:
            # Collections per generation during each round: tachy tells the program's own GC
            # from interference when the outliers coincide with full collections.
            self._record["gc_collections"] = gcs

    def _options(self):
        return {
            "disable_gc": self._disable_gc,
            "timer": "perf_counter",
            "min_rounds": self._min_rounds,
            "max_time": self._min_time,
            "min_time": self._round_time,
            "warmup": self._warmup,
        }

    def _raw(self):
        parameters = {k: str(v) for k, v in (self.params or {}).items()}
        entry = {
            "name": self.fullname,
            "command_line": getattr(getattr(self._node, "function", None), "__qualname__", self.name),
            "group": self.group,
            "parameters": parameters,
            "pytest": {
                "name": self.name,
                "fullname": self.fullname,
                "params": self.params,
                "param": self.param,
                "extra_info": {k: _json_safe(v) for k, v in self.extra_info.items()},
                "options": self._options(),
            },
        }
        entry.update(self._record)
        return entry


def _pick(*values):
    for v in values:
        if v is not None:
            return v
    return None


# Every runner reads the CPU clock right outside the wall clock, at the same points, and
# returns (wall time, (user, system) CPU per iteration, result): the result outlives both
# windows, so freeing it is measured by neither.


def _sync_runner(fn, args, kwargs):
    timer = time.perf_counter

    def runner(loops):
        if loops == 1:
            c0 = _cpu()
            t0 = timer()
            result = fn(*args, **kwargs)
            t1 = timer()
            c1 = _cpu()
            return t1 - t0, _cpu_per(c0, c1, 1), result
        it = range(loops)
        c0 = _cpu()
        t0 = timer()
        for _ in it:
            fn(*args, **kwargs)
        t1 = timer()
        c1 = _cpu()
        return t1 - t0, _cpu_per(c0, c1, loops), None

    return runner


def _async_runner(loop, fn, args, kwargs):
    def runner(loops):
        return loop.run_until_complete(_timed_async(fn, args, kwargs, loops))

    return runner


def _timed_sync(fn, args, kwargs, loops):
    timer = time.perf_counter
    result = None
    c0 = _cpu()
    t0 = timer()
    for _ in range(loops):
        result = fn(*args, **kwargs)
    t1 = timer()
    c1 = _cpu()
    return t1 - t0, _cpu_per(c0, c1, loops), result


async def _timed_async(fn, args, kwargs, loops):
    timer = time.perf_counter
    result = None
    c0 = _cpu()
    t0 = timer()
    for _ in range(loops):
        result = await fn(*args, **kwargs)
    t1 = timer()
    c1 = _cpu()
    return t1 - t0, _cpu_per(c0, c1, loops), result


class _Loop:
    """A fresh event loop for benchmarking a coroutine function from a synchronous test."""

    def __enter__(self):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "benchmark() of a coroutine function runs its own event loop: call it from a synchronous test, not from an async one"
            )
        self.loop = asyncio.new_event_loop()
        return self.loop

    def __exit__(self, *exc):
        try:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
        return False


@pytest.fixture
def tachy_benchmark(request):
    """pytest-benchmark compatible benchmark fixture, measured here and analysed by tachy."""
    state = request.config.stash[_STATE]
    fixture = BenchmarkFixture(request.node, state)
    missing = None
    if not fixture.disabled:
        try:
            state.find_binary()
        except BinaryNotFound as e:
            missing = str(e)
    if missing:
        pytest.fail(f"tachy: {missing}", pytrace=False)
    yield fixture
    if fixture._record is not None:
        if state.started_at is None:
            state.started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        state.benchmarks.append(fixture._raw())


def _machine_info():
    return {
        "node": platform.node(),
        "processor": platform.processor(),
        "machine": platform.machine(),
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_implementation_version": platform.python_version(),
        "python_version": platform.python_version(),
        "python_build": list(platform.python_build()),
        "release": platform.release(),
        "system": platform.system(),
        "cpu": {"count": os.cpu_count()},
    }


def _commit_info(config):
    env = os.environ
    return {
        "id": env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA"),
        "branch": env.get("GITHUB_REF_NAME") or env.get("CI_COMMIT_REF_NAME"),
        "project": config.rootpath.name,
    }


def _unique(benchmarks):
    seen = {}
    for b in benchmarks:
        n = seen.get(b["name"], 0)
        seen[b["name"]] = n + 1
        if n:
            b["name"] = f"{b['name']}#{n + 1}"
    return benchmarks


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or hasattr(config, "workerinput") or not state.benchmarks:
        return
    raw = {
        "schema": RAW_SCHEMA,
        "source": "pytest",
        "started_at": state.started_at,
        "machine_info": _machine_info(),
        "commit_info": _commit_info(config),
        "benchmarks": _unique(state.benchmarks),
    }
    keep = state.option("tachy_raw")
    if keep:
        raw_path = os.path.abspath(keep)
        with open(raw_path, "w") as f:
            json.dump(raw, f)
    else:
        fd, raw_path = tempfile.mkstemp(prefix="tachy-raw-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(raw, f)
    try:
        _analyse(state, raw_path)
    finally:
        if not keep:
            os.unlink(raw_path)
    if state.failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _analyse(state, raw_path):
    option = state.option
    try:
        binary = state.find_binary()
    except BinaryNotFound as e:
        state.output.append(f"tachy: error: {e}")
        state.failed = True
        return
    cmd = [binary, "bench", "--from-raw", raw_path, "--baseline-dir", state.baseline_dir()]
    cmd += ["--metric", option("tachy_metric")]
    if option("tachy_save"):
        cmd += ["--save-baseline", option("tachy_save")]
    if option("tachy_compare"):
        cmd += ["--baseline", option("tachy_compare"), "--max-regression", option("tachy_max_regression")]
    for flag, name in (("--export-pytest-json", "tachy_json"), ("--export-json", "tachy_export_json")):
        if option(name):
            cmd += [flag, os.path.abspath(option(name))]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as e:
        state.output.append(f"tachy: error: cannot run {binary}: {e}")
        state.failed = True
        return
    state.output.extend(done.stdout.rstrip("\n").splitlines())
    state.output.extend(line for line in done.stderr.rstrip("\n").splitlines() if line)
    if done.returncode == 1:
        state.output.append("tachy: the benchmark gate failed: a benchmark regressed (see above)")
        state.failed = True
    elif done.returncode != 0:
        state.output.append(f"tachy: `{' '.join(cmd)}` exited with {done.returncode}")
        state.failed = True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is None or not state.output:
        return
    terminalreporter.section("tachy benchmarks", sep="=", red=state.failed, bold=True)
    for line in state.output:
        terminalreporter.write_line(line)
