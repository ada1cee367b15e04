"""A steady worker for the soak budget: allocates and frees in a cycle, memory stays flat."""

import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
end = time.monotonic() + seconds
while time.monotonic() < end:
    batch = [bytes(1000) for _ in range(2000)]
    del batch
    time.sleep(0.05)
