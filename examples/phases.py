"""A CPU-bound program that spends 50%, 30% and 20% of its time in three functions.

Profile it:  tachy profile -- python3 examples/phases.py [SECONDS]
"""

import sys
import time

clock = time.perf_counter


def parse_records(seconds: float) -> int:
    end = clock() + seconds
    n = 0
    while clock() < end:
        n += 1
    return n


def score_records(seconds: float) -> int:
    end = clock() + seconds
    n = 0
    while clock() < end:
        n += 1
    return n


def write_report(seconds: float) -> int:
    end = clock() + seconds
    n = 0
    while clock() < end:
        n += 1
    return n


def main(total: float) -> None:
    # Short alternating slices keep the 50/30/20 split true over any stretch of the run.
    slices = max(1, int(total / 0.05))
    step = total / slices
    for _ in range(slices):
        parse_records(0.5 * step)
        score_records(0.3 * step)
        write_report(0.2 * step)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
