"""A fixed amount of call-heavy CPU work (recursion, small functions, loops), ~2-4 s plain."""

import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def mix(i):
    return (i * 2654435761) % 4294967296


def loop(n):
    total = 0
    for i in range(n):
        total += mix(i)
    return total


scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
for _ in range(max(1, int(4 * scale))):
    fib(24)
    loop(int(300_000 * scale / 4) + 1)
