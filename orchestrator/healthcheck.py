"""Container health probe for the worker: its heartbeat file must be fresh.

The worker touches the file from its main loop, so a hung or crashed loop turns
the container unhealthy even while the process lives.
"""

import os
import sys
import time

HEARTBEAT_FILE = os.environ.get("WORKER_HEARTBEAT_FILE", "/tmp/nasiko-worker.heartbeat")
MAX_AGE_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "30"))


def main() -> int:
    try:
        age = time.time() - os.stat(HEARTBEAT_FILE).st_mtime
    except FileNotFoundError:
        print(f"no heartbeat yet at {HEARTBEAT_FILE}")
        return 1
    if age > MAX_AGE_SECONDS:
        print(f"heartbeat is {age:.0f}s old (limit {MAX_AGE_SECONDS:.0f}s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
