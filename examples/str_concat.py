"""Builds a large string with += in a loop: the classic quadratic-risk anti-pattern.

Benchmark it against str_join.py:  tachy bench 'python3 examples/str_concat.py' 'python3 examples/str_join.py'
"""

N = 400_000


def build() -> str:
    out = ""
    for i in range(N):
        out += str(i)
        out += ","
    return out


if __name__ == "__main__":
    print(len(build()))
