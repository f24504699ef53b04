"""A docker-py client pointed where the `docker` CLI points.

`DOCKER_HOST` wins; otherwise the active `docker context` decides, as it does
for the CLI and Compose, so tasks and Compose always talk to the same engine.
"""

import os

import docker
from docker.errors import DockerException

from .errors import NasikoError


def docker_host() -> str:
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    try:
        # DOCKER_CONTEXT overrides the config file's current context, as for the CLI.
        name = os.environ.get("DOCKER_CONTEXT")
        context = docker.ContextAPI.get_context(name) if name else docker.ContextAPI.get_current_context()
    except DockerException:
        context = None
    if context is None and os.environ.get("DOCKER_CONTEXT"):
        raise NasikoError(f"docker context {os.environ['DOCKER_CONTEXT']!r} (DOCKER_CONTEXT) does not exist",
                          hint="`docker context ls` lists them; unset DOCKER_CONTEXT for the default")
    if context is not None and context.Host:
        return context.Host
    return "unix:///var/run/docker.sock"


def _explain(host: str, exc: Exception) -> NasikoError:
    text = str(exc)
    socket = host.removeprefix("unix://")
    if "Permission denied" in text or "PermissionError" in text:
        return NasikoError(
            f"permission denied on the Docker socket {socket}",
            hint="add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)",
        )
    if host.startswith("unix://") and not os.path.exists(socket):
        return NasikoError(
            f"Docker is not running: no socket at {socket}",
            hint="start Docker Desktop or the docker service (on CI here: scripts/ci/provision.sh)",
        )
    return NasikoError(
        f"cannot reach the Docker engine at {host}: {text.splitlines()[0] if text else type(exc).__name__}",
        hint="check that Docker is running, and DOCKER_HOST / `docker context use` if you set one",
    )


def docker_client(timeout: int = 60) -> docker.DockerClient:
    """A connected client, or a NasikoError naming the socket and the fix."""
    host = docker_host()
    try:
        client = docker.DockerClient(base_url=host, version="auto", timeout=timeout)
        client.ping()
    except (DockerException, OSError, ValueError) as exc:  # ValueError: e.g. a port out of range in DOCKER_HOST
        raise _explain(host, exc) from exc
    return client
