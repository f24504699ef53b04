"""Stack start-up and idle memory.

Warm `invoke up` (images present) to all-healthy is timed against raw
`docker compose up -d --wait` on the same file and env file, alternating in
the same run; the ratio of medians is the figure (target <= 1.10). Idle
memory is the sum of the containers' usage after the stack settles
(target <= 1.5 GB without observability).
"""

import statistics
import subprocess
import sys
import time

import pytest

from nasiko_local import stack as nasiko
from nasiko_local.containers import project_containers

pytestmark = pytest.mark.bench
ROUNDS = 3


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    return elapsed


def _container_memory_bytes(container) -> int:
    stats = container.stats(stream=False)["memory_stats"]
    cache = stats.get("stats", {}).get("inactive_file", stats.get("stats", {}).get("cache", 0))
    return stats.get("usage", 0) - cache


def test_warm_up_is_within_ten_percent_of_raw_compose_and_idle_memory_is_bounded(fresh_stack, stack_config):
    stack = fresh_stack
    nasiko.up(stack)  # warm: images present, build cache hot
    nasiko.down(stack, volumes=True)
    raw = stack.compose.args("up", "-d", "--wait", "--no-build", "--pull", "never", profiles=stack.profiles)
    ours = [sys.executable, "-m", "invoke", "up", *(["--config", str(stack_config)] if stack_config else [])]
    down = stack.compose.args("down", "--volumes", profiles=("*",))
    baseline, measured = [], []
    for _ in range(ROUNDS):
        baseline.append(_timed(raw))
        subprocess.run(down, capture_output=True, check=True)
        measured.append(_timed(ours))
        if _ != ROUNDS - 1:
            subprocess.run(down, capture_output=True, check=True)
    ratio = statistics.median(measured) / statistics.median(baseline)

    time.sleep(10)  # let the services settle before reading idle memory
    containers = project_containers(stack.client, stack.compose.project).values()
    memory_mb = sum(_container_memory_bytes(c) for c in containers) / 2**20
    nasiko.down(stack, volumes=True)

    print(f"\n[bench] raw compose up --wait: median {statistics.median(baseline):.2f}s "
          f"(runs: {', '.join(f'{t:.2f}' for t in baseline)})")
    print(f"[bench] invoke up:              median {statistics.median(measured):.2f}s "
          f"(runs: {', '.join(f'{t:.2f}' for t in measured)})")
    print(f"[bench] ratio invoke/raw: {ratio:.3f} (target <= 1.10)")
    print(f"[bench] idle memory of {len(containers)} containers: {memory_mb:.0f} MiB (target <= 1536 MiB, "
          f"profiles: {stack.profiles or 'none'})")
    assert ratio <= 1.10
    assert memory_mb <= 1536
