"""Waiting until an agent container is ready, re-reading its state on every poll.

    state exited/dead, or restarted   -> failed, with exit code and last log lines
    health check: unhealthy           -> failed
    health check: healthy             -> ready
    no health check                   -> ready when GET answers 2xx on, in order,
                                         /health, /.well-known/agent-card.json,
                                         /.well-known/agent.json (older A2A SDKs)

The agent is probed at its IP address on the agent network: that works both
from the worker's own container (same network) and from the host when the
worker runs there in tests (Linux routes to bridge networks). The container
name is the fallback when no address is known yet.
"""

import time
from collections.abc import Callable

import httpx
from docker.errors import NotFound
from docker.models.containers import Container

from .runner import AGENT_PORT, ContainerFailed

# One client for every probe: creating a client loads a TLS context, which
# costs more CPU than a whole cached redeploy and serialises concurrent ones.
# trust_env=False: agents are on a local bridge network; an HTTP(S)_PROXY in
# the worker's environment must never route probes elsewhere.
_HTTP = httpx.Client(timeout=1.0, trust_env=False)

PROBE_PATHS = ("/health", "/.well-known/agent-card.json", "/.well-known/agent.json")
LOG_TAIL_LINES = 20


def agent_address(container: Container, network: str) -> str:
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return (networks.get(network) or {}).get("IPAddress") or container.name


def wait_until_ready(
    container: Container,
    network: str,
    timeout: float,
    poll_interval: float = 0.1,
    on_wait: Callable[[str], None] | None = None,
    fresh: bool = False,
) -> str:
    """Block until the agent is ready; return what answered. Raise ContainerFailed.

    `fresh=True` says `container.attrs` were read just now, so the first poll
    skips one inspect (it matters on the cached-redeploy fast path).
    """
    deadline = time.monotonic() + timeout
    missing: set[str] = set()  # paths that answered 404: not asked again
    announced = False
    restarts_before = container.attrs.get("RestartCount", 0)
    while True:
        try:
            if not fresh:
                container.reload()
            fresh = False
        except NotFound:
            raise ContainerFailed(
                f"container {container.name} was removed while starting (by a newer deployment of the "
                "same agent, or by hand)"
            ) from None
        state = container.attrs.get("State") or {}
        # The restart policy brings a crashed agent back at once, so a crash
        # shows as "restarting" or a higher restart count, not only "exited".
        restarted = container.attrs.get("RestartCount", 0) > restarts_before
        if state.get("Status") in {"exited", "dead"} or state.get("Restarting") or restarted:
            raise ContainerFailed(
                f"the agent exited with code {state.get('ExitCode')} before it was ready{_log_tail(container)}"
            )
        health = (state.get("Health") or {}).get("Status")
        if health == "unhealthy":
            raise ContainerFailed(f"the agent's health check reports unhealthy{_log_tail(container)}")
        if health == "healthy":
            return f"docker health check of {container.name}"
        if health is None and state.get("Running"):
            base = f"http://{agent_address(container, network)}:{AGENT_PORT}"
            answered = _probe(_HTTP, base, missing)
            if answered:
                return answered
        if not announced and on_wait is not None:
            on_wait(f"waiting for {container.name} to answer on port {AGENT_PORT}")
            announced = True
        if time.monotonic() > deadline:
            raise ContainerFailed(
                f"the agent was not ready within {timeout:.0f}s (no 2xx on {', '.join(PROBE_PATHS)} "
                f"on port {AGENT_PORT}): check that it listens on 0.0.0.0:{AGENT_PORT}{_log_tail(container)}"
            )
        time.sleep(poll_interval)


def _probe(http: httpx.Client, base: str, missing: set[str]) -> str | None:
    for path in PROBE_PATHS:
        if path in missing:
            continue
        try:
            response = http.get(base + path)
        except httpx.HTTPError:
            return None  # not listening yet: no point asking the other paths
        if response.is_success:
            return base + path
        if response.status_code == 404:
            missing.add(path)
    if len(missing) == len(PROBE_PATHS):
        missing.clear()  # every path 404s: keep asking, the app may still be loading routes
    return None


def _log_tail(container: Container) -> str:
    try:
        text = container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").strip()
    except Exception:  # the container may be gone already; the failure itself matters more
        return ""
    return f"\nlast log lines:\n{text}" if text else ""
