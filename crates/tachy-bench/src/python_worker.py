"""tachy bench --python worker: times one timeit-style statement in this fresh process.

Run by tachy as `python -c <this file> <json spec>`; not meant to be run by hand. The spec has
`stmt`, `setup`, `loops` (0: calibrate like timeit's autorange until one value lasts at least
`value_time` seconds), `warmups` and `values`. The answer is one JSON object written to the
original standard output: {"loops", "values": [[wall, user, system], ...] (seconds per loop),
"maxrss" (bytes), "python"}, after a first line {"started": true} written before the statement
runs (so a statement that ends the process, os._exit or sys.exit, is told from a program that
is not Python). The statement's own output goes to /dev/null. Exactly as timeit
does, the setup runs before every value (untimed) and the garbage collector is off while
timing (write `gc.enable()` in the setup to keep it on).
"""

import json
import os
import resource
import sys
import time
import timeit


def main():
    spec = json.loads(sys.argv[1])
    # Keep the real stdout for the answer; the statement prints into /dev/null.
    answer = os.fdopen(os.dup(1), "w")
    answer.write('{"started": true}\n')
    answer.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

    perf_counter = time.perf_counter
    getrusage = resource.getrusage
    self_usage = resource.RUSAGE_SELF
    cpu = []
    started = [False]

    def clock():
        # timeit's inner loop calls the timer exactly twice; the CPU reading stays outside the
        # timed region on both ends.
        if not started[0]:
            started[0] = True
            r = getrusage(self_usage)
            cpu.append((r.ru_utime, r.ru_stime))
            return perf_counter()
        t = perf_counter()
        started[0] = False
        r = getrusage(self_usage)
        cpu.append((r.ru_utime, r.ru_stime))
        return t

    timer = timeit.Timer(stmt=spec["stmt"], setup=spec["setup"] or "pass", timer=clock)

    def measure(loops):
        del cpu[:]
        wall = timer.timeit(loops)
        (u0, s0), (u1, s1) = cpu[-2], cpu[-1]
        return wall, u1 - u0, s1 - s0

    loops = int(spec["loops"])
    if loops <= 0:
        target = float(spec["value_time"])
        base = 1
        loops = 0
        while not loops:
            for factor in (1, 2, 5):
                n = base * factor
                if measure(n)[0] >= target or n >= 10**12:
                    loops = n
                    break
            base *= 10

    for _ in range(int(spec["warmups"])):
        measure(loops)
    values = []
    for _ in range(int(spec["values"])):
        wall, user, system = measure(loops)
        values.append([wall / loops, user / loops, system / loops])

    maxrss = getrusage(self_usage).ru_maxrss * 1024
    json.dump({"loops": loops, "values": values, "maxrss": maxrss, "python": sys.version.split()[0]}, answer)
    answer.write("\n")
    answer.close()


main()
