"""`invoke up` fails fast, naming the broken service and saying why."""

import io
import tarfile
import time

import pytest

from nasiko_local import stack as nasiko
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter

pytestmark = pytest.mark.e2e
CRASHING_REDIS = "nasiko-test/crashing-redis:e2e"


def _crashing_redis_image(client) -> str:
    """A `redis-server` that starts, logs a fatal line and exits: a service that dies."""
    dockerfile = (b"FROM nasiko-offline/python:3.11-slim\n"
                  b"RUN printf '#!/bin/sh\\necho \"FATAL: simulated crash on start\"\\nexit 3\\n' "
                  b"> /usr/local/bin/redis-server && chmod +x /usr/local/bin/redis-server\n")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=CRASHING_REDIS, rm=True)
    return CRASHING_REDIS


def _stack_with_redis_image(stack_config, tmp_path, image):
    env = tmp_path / "broken.env"
    env.write_text((stack_config.read_text() if stack_config else "") + f"\nREDIS_IMAGE={image}\n")
    return nasiko.load_stack(env)


@pytest.fixture
def crashing_redis_stack(fresh_stack, stack_config, tmp_path):
    stack = _stack_with_redis_image(stack_config, tmp_path, _crashing_redis_image(fresh_stack.client))
    yield stack
    nasiko.down(stack, volumes=True)
    stack.client.images.remove(CRASHING_REDIS, force=True)


@pytest.fixture
def unstartable_redis_stack(fresh_stack, stack_config, tmp_path):
    """An image with no redis-server at all: the engine cannot even start the container."""
    stack = _stack_with_redis_image(stack_config, tmp_path, "nasiko-offline/python:3.11-slim")
    yield stack
    nasiko.down(stack, volumes=True)


def test_a_dying_service_fails_up_at_once_with_its_name_and_last_log_lines(crashing_redis_stack):
    started = time.monotonic()
    with pytest.raises(NasikoError) as error:
        nasiko.up(crashing_redis_stack, SilentReporter(), timeout=240)
    elapsed = time.monotonic() - started
    message = error.value.message
    assert message.startswith(("redis exited with code 3", "redis is restarting in a loop")), message
    assert "--- last log lines of nasiko-redis-1 ---" in message
    assert "FATAL: simulated crash on start" in message
    assert "invoke logs -s redis" in error.value.hint
    assert elapsed < 120, f"failed after {elapsed:.0f}s: should not wait for the 240 s timeout"


def test_a_container_the_engine_cannot_start_fails_up_with_the_engine_reason(unstartable_redis_stack):
    with pytest.raises(NasikoError) as error:
        nasiko.up(unstartable_redis_stack, SilentReporter(), timeout=240)
    assert error.value.message.startswith("docker compose up failed")
    assert 'exec: "redis-server": executable file not found' in error.value.message
