"""Waiting for the stack to be healthy, failing fast with the reason.

Docker's own health checks are the source of truth (each service in the
compose file has a real one); this only watches them. A container that exits,
restarts in a loop or turns unhealthy fails the wait at once, with its last
log lines, rather than when the timeout runs out.
"""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import docker

from .containers import ContainerState, last_log_lines, project_containers, service_states
from .errors import NasikoError

RESTART_LOOP_THRESHOLD = 2
OnChange = Callable[[ContainerState, float], None]


def _failure(state: ContainerState) -> str | None:
    if state.state in ("exited", "dead"):
        return f"{state.name} exited with code {state.exit_code}"
    if state.state == "restarting" or state.restart_count >= RESTART_LOOP_THRESHOLD:
        return f"{state.name} is restarting in a loop ({state.restart_count} restarts)"
    if state.health == "unhealthy":
        detail = f": {state.health_output.splitlines()[-1]}" if state.health_output else ""
        return f"{state.name} turned unhealthy{detail}"
    return None


def _error(client: docker.DockerClient, project: str, state: ContainerState, reason: str) -> NasikoError:
    container = project_containers(client, project).get(state.name)
    logs = last_log_lines(container)
    detail = f"\n--- last log lines of {state.container} ---\n{logs}" if logs else ""
    return NasikoError(f"{reason}{detail}",
                       hint=f"see `invoke logs -s {state.name}`; fix, then `invoke restart --service {state.name}`")


def _check_starter(starter: tuple[subprocess.Popen, Path] | None) -> bool:
    """True once the background `compose up` is done; raises if it failed."""
    if starter is None:
        return True
    process, log = starter
    code = process.poll()
    if code is None:
        return False
    if code != 0:
        output = "\n".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise NasikoError(f"docker compose up failed (exit {code}):\n{output}",
                          hint="a port taken by another program, or a service that failed to start: see above")
    return True


def wait_healthy(client: docker.DockerClient, project: str, services: list[str], *, timeout: float = 300,
                 poll: float = 0.25, on_change: OnChange | None = None,
                 starter: tuple[subprocess.Popen, Path] | None = None) -> dict[str, ContainerState]:
    """Block until every service is running and healthy (or has no health check).

    `starter` is a `compose up` still running in the background, with its log
    file: its failure ends the wait at once, and the wait lasts until it is done.
    """
    start = time.monotonic()
    seen: dict[str, str] = {}
    while True:
        started = _check_starter(starter)
        states = service_states(client, project, services)
        elapsed = time.monotonic() - start
        for state in states.values():
            if seen.get(state.name) != state.label:
                # "missing" before compose has created anything is not news.
                if on_change and (state.name in seen or state.label != "missing"):
                    on_change(state, elapsed)
                seen[state.name] = state.label
            reason = _failure(state)
            if reason:
                raise _error(client, project, state, reason)
        if started and all(s.ready for s in states.values()):
            return states
        if elapsed > timeout:
            waiting = ", ".join(f"{s.name} ({s.label})" for s in states.values() if not s.ready)
            first = next(s for s in states.values() if not s.ready)
            raise _error(client, project, first, f"not healthy after {timeout:.0f}s: still waiting on {waiting}")
        time.sleep(poll)
