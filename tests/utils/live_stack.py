"""Fixtures for tests that run the real stack in the real engine (e2e, bench, smoke).

Which env file: NASIKO_TEST_CONFIG if set; else, on a machine provisioned
for offline use (the nasiko-offline images exist), scripts/ci/offline.env;
else the developer's usual env file.
"""

import os
from pathlib import Path

import docker
import pytest

from nasiko_local.containers import project_containers
from nasiko_local.docker_api import docker_client
from nasiko_local.stack import Stack, load_stack

ROOT = Path(__file__).resolve().parents[2]
OFFLINE_ENV = ROOT / "scripts/ci/offline.env"


def test_config() -> Path | None:
    if os.environ.get("NASIKO_TEST_CONFIG"):
        return Path(os.environ["NASIKO_TEST_CONFIG"])
    try:
        docker_client().images.get("nasiko-offline/python:3.11-slim")
    except docker.errors.ImageNotFound:
        return None
    return OFFLINE_ENV


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def stack_config() -> Path | None:
    return test_config()


@pytest.fixture(scope="session")
def fresh_stack(stack_config) -> Stack:
    """A Stack handle; refuses to touch a stack a developer already runs."""
    stack = load_stack(stack_config)
    if project_containers(stack.client, stack.compose.project):
        pytest.fail("a nasiko stack is already running on this engine; the end-to-end tests start and remove "
                    "their own. Stop yours with `invoke down` first (your volumes are kept).")
    return stack
