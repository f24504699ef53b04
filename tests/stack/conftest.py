import shutil
import subprocess

import pytest


def _compose_v2() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


requires_compose = pytest.mark.skipif(
    not _compose_v2(), reason="not run: Compose v2 (`docker compose`) is not installed on this machine"
)
