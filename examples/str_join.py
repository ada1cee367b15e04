"""Builds the same string as str_concat.py with one str.join over a generator."""

N = 400_000


def build() -> str:
    return "".join(f"{i}," for i in range(N))


if __name__ == "__main__":
    print(len(build()))
