"""`invoke status`: what runs, how healthy, where to reach it.

The JSON form is a versioned contract (`schema: "nasiko.status/v1"`, described
by nasiko_local/schemas/status-v1.json): fields are only ever added within v1.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import docker

from .compose import Compose
from .containers import AGENT_LABEL, ContainerState, agent_containers, service_states, state_of
from .endpoints import gateway_url

SCHEMA = "nasiko.status/v1"

# Where a person would point a browser or client, per service.
URL_TEMPLATES = {
    "kong": "http://{host}:{port}/",
    "nasiko-backend": "http://{host}:{port}/docs",
    "nasiko-web": "http://{host}:{port}/",
    "kong-service-registry": "http://{host}:{port}/agents",
    "nasiko-router": "http://{host}:{port}/health",
    "nasiko-auth": "http://{host}:{port}/health",
    "chat-history": "http://{host}:{port}/health",
    "langtrace": "http://{host}:{port}/",
    "mongodb": "mongodb://{host}:{port}",
    "redis": "redis://{host}:{port}",
}


@dataclass(frozen=True)
class Row:
    name: str
    kind: str  # "service" or "agent"
    state: str  # running, exited, missing, disabled, ...
    health: str | None
    host_port: int | None
    url: str | None
    image: str | None
    uptime_seconds: float | None
    container: str | None


@dataclass(frozen=True)
class StackStatus:
    project: str
    env_file: str | None
    generated_at: str
    services: list[Row]
    agents: list[Row]

    @property
    def all_ready(self) -> bool:
        return all(r.state == "running" and r.health in (None, "healthy")
                   for r in self.services if r.state != "disabled")

    def to_json(self) -> dict:
        return {"schema": SCHEMA, **asdict(self), "all_ready": self.all_ready}


def _host(host_ip: str) -> str:
    return "localhost" if host_ip in ("127.0.0.1", "0.0.0.0", "") else host_ip


def _row(kind: str, state: ContainerState, port, url: str | None, image: str | None) -> Row:
    uptime = state.uptime_seconds()
    return Row(state.name, kind, state.state, state.health, port, url, state.image or image,
               round(uptime, 1) if uptime is not None else None, state.container)


def collect_status(compose: Compose, client: docker.DockerClient, profiles: list[str]) -> StackStatus:
    enabled = compose.services(profiles)
    states = service_states(client, compose.project, enabled)
    rows = []
    for name in compose.config.services:
        ports = compose.config.published_ports([name])
        port = ports[0] if ports else None
        url = URL_TEMPLATES.get(name, "").format(host=_host(port.host_ip), port=port.port) if port else None
        if name not in enabled:
            rows.append(Row(name, "service", "disabled", None, port.port if port else None, None,
                            compose.config.image(name), None, None))
            continue
        # A running container's own port wins: the stack may have been started
        # with other settings than the env file read now.
        actual = states[name].host_port
        if port and actual and actual != port.port:
            url = URL_TEMPLATES.get(name, "").format(host=_host(port.host_ip), port=actual)
        shown = actual or (port.port if port else None)
        rows.append(_row("service", states[name], shown, url or None, compose.config.image(name)))
    agents = []
    gateway = gateway_url(compose, display=True) if "kong" in enabled else None
    for container in agent_containers(client):
        name = container.labels[AGENT_LABEL]
        port = container.labels.get("nasiko.port", "5000")
        # Without the gateway, the address that works: on the stack network.
        url = f"{gateway}/{name}/" if gateway else f"http://{name}:{port}/"
        agents.append(_row("agent", state_of(name, container), None, url, None))
    return StackStatus(compose.project, str(compose.env.path) if compose.env.path else None,
                       datetime.now(UTC).isoformat(timespec="seconds"), rows, sorted(agents, key=lambda r: r.name))
