"""What the engine says about the stack's containers, read in one place.

Containers are found by label, never by name patterns: Compose labels its
own (`com.docker.compose.project`), the worker labels agents (`nasiko.agent`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import docker
from docker.models.containers import Container

AGENT_LABEL = "nasiko.agent"
# What the worker starts beside an agent: its companion services and their network.
COMPANION_LABEL = "nasiko.companion-of"
AGENT_NETWORK_LABEL = "nasiko.agent-network"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerState:
    name: str
    container: str | None  # container name, None when there is none
    state: str  # running, exited, restarting, created, dead, missing
    health: str | None  # healthy, unhealthy, starting, or None without a health check
    restart_count: int = 0
    exit_code: int | None = None
    image: str | None = None
    started_at: datetime | None = None
    health_output: str = ""
    host_port: int | None = None  # the first port the engine actually publishes

    @property
    def ready(self) -> bool:
        return self.state == "running" and self.health in (None, "healthy")

    @property
    def label(self) -> str:
        if self.state != "running":
            return self.state
        return self.health or "running"

    def uptime_seconds(self, now: datetime | None = None) -> float | None:
        if self.state != "running" or self.started_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.started_at).total_seconds()


def _parse_time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    # Docker gives nanoseconds; datetime takes microseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def state_of(name: str, container: Container) -> ContainerState:
    attrs = container.attrs
    state = attrs.get("State", {})
    health = state.get("Health") or {}
    log = health.get("Log") or []
    return ContainerState(
        name=name,
        container=container.name,
        state=state.get("Status", "unknown"),
        health=health.get("Status"),
        restart_count=attrs.get("RestartCount", 0),
        exit_code=state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None,
        image=attrs.get("Config", {}).get("Image"),
        started_at=_parse_time(state.get("StartedAt")),
        health_output=(log[-1].get("Output") or "").strip() if log else "",
        host_port=_first_published_port(attrs),
    )


def _first_published_port(attrs: dict) -> int | None:
    for bindings in (attrs.get("NetworkSettings", {}).get("Ports") or {}).values():
        for binding in bindings or []:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
    return None


def containers_labelled(client: docker.DockerClient, label: str) -> list[Container]:
    """Containers carrying `label` (KEY or KEY=VALUE), tolerating ones removed meanwhile.

    docker-py's containers.list() inspects each listed container and fails
    with 404 if one disappears in between; the engine is shared, so it may.
    """
    found = []
    for summary in client.api.containers(all=True, filters={"label": label}):
        try:
            found.append(client.containers.get(summary["Id"]))
        except docker.errors.NotFound:
            continue
    return found


def project_containers(client: docker.DockerClient, project: str) -> dict[str, Container]:
    """The newest container of each Compose service of the project."""
    found: dict[str, Container] = {}
    for container in containers_labelled(client, f"{PROJECT_LABEL}={project}"):
        service = container.labels.get(SERVICE_LABEL)
        if service and (service not in found or container.attrs["Created"] > found[service].attrs["Created"]):
            found[service] = container
    return found


def service_states(client: docker.DockerClient, project: str, services: list[str]) -> dict[str, ContainerState]:
    containers = project_containers(client, project)
    states = {}
    for service in services:
        container = containers.get(service)
        states[service] = state_of(service, container) if container else ContainerState(service, None, "missing", None)
    return states


def agent_containers(client: docker.DockerClient, network: str = "nasiko-network") -> list[Container]:
    """Agent containers of this stack: the agent label and a place on the stack's network.

    Agents on other networks (another stack, a test run) are not ours to touch.
    """
    return [c for c in containers_labelled(client, AGENT_LABEL)
            if network in (c.attrs.get("NetworkSettings", {}).get("Networks") or {})]


def last_log_lines(container: Container | None, n: int = 20) -> str:
    if container is None:
        return ""
    try:
        return container.logs(tail=n, timestamps=False).decode(errors="replace").rstrip()
    except docker.errors.APIError:
        return ""


def companion_containers(client: docker.DockerClient, agent_names: set[str]) -> list[Container]:
    """The companion containers of these agents (each agent's own services from its compose file)."""
    return [c for c in containers_labelled(client, COMPANION_LABEL) if c.labels.get(COMPANION_LABEL) in agent_names]
