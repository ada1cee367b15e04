"""A worker that leaks: it keeps 1 MB more every 100 ms (the failing soak budget)."""

import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
kept = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    kept.append(bytearray(1_000_000))
    time.sleep(0.1)
