"""The health wait fails at once, with the reason, when a container dies, loops or turns unhealthy."""

import pytest

from nasiko_local.containers import ContainerState
from nasiko_local.health import _failure


@pytest.mark.parametrize("state, reason", [
    (ContainerState("redis", "nasiko-redis-1", "exited", None, exit_code=3), "redis exited with code 3"),
    (ContainerState("redis", "nasiko-redis-1", "restarting", None, restart_count=1), "restarting in a loop"),
    (ContainerState("redis", "nasiko-redis-1", "running", None, restart_count=2), "restarting in a loop (2 restarts)"),
    (ContainerState("redis", "nasiko-redis-1", "running", "unhealthy", health_output="PING failed\nNOAUTH"),
     "redis turned unhealthy: NOAUTH"),
])
def test_the_health_wait_fails_at_once_on_exit_a_restart_loop_or_unhealthy(state, reason):
    assert reason in _failure(state)


def test_starting_and_healthy_containers_are_no_failure():
    assert _failure(ContainerState("redis", "c", "running", "starting")) is None
    assert _failure(ContainerState("redis", "c", "running", "healthy")) is None
