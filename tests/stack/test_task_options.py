"""Options of the tasks are checked before anything touches the engine."""

import subprocess
import sys
from pathlib import Path

import pytest

from nasiko_local import images
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter
from nasiko_local.stack import load_stack

from .conftest import requires_compose

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@requires_compose
@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_up_timeout_must_be_at_least_one_second(value):
    result = invoke("up", "--timeout", value, "--config", "scripts/ci/offline.env")
    assert result.returncode == 1
    assert "--timeout takes a whole number (1 or more)" in result.stderr


@requires_compose
def test_push_of_a_third_party_service_is_refused_naming_ours():
    stack = load_stack(ROOT / "scripts/ci/offline.env")
    with pytest.raises(NasikoError, match="redis is not built from this repository") as error:
        images.push_images(stack, SilentReporter(), ["redis"])
    assert "nasiko-backend" in error.value.hint
