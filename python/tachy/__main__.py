"""``python -m tachy ARGS``: runs the tachy binary with ARGS."""

import os
import sys

from tachy import BinaryNotFound, find_binary


def main():
    try:
        binary = find_binary()
    except BinaryNotFound as e:
        sys.stderr.write(f"tachy: error: {e}\n")
        return 2
    os.execv(binary, [binary, *sys.argv[1:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
