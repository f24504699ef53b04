"""Which running containers are agents: a pure selection over Docker's list.

A container is an agent of this stack only if all of these hold:
  - it carries the `nasiko.agent` label (others are not ours: ignored);
  - it is attached to the agent network, compared by exact name;
  - its labels decode (else: skipped, with the reason);
  - its name equals the `nasiko.agent` label, compared exactly. Docker's own
    `name=` filter is an unanchored regex (`weather` also finds `weather-old`
    and `weather2`), so names are never matched through it.

`select_agents` works on the dicts of `GET /containers/json`, so it is
tested with plain data; `list_containers` is the only call into Docker.
"""

import logging
import re
from dataclasses import dataclass, field

import docker

from .labels import AGENT, AgentLabels, LabelError, decode_labels

log = logging.getLogger(__name__)

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


@dataclass(frozen=True)
class Candidate:
    """A running agent container, as discovery saw it."""

    container_id: str
    container_name: str
    labels: AgentLabels
    state: str
    health: str  # healthy | unhealthy | starting | none
    image: str
    address: str  # its IP on the agent network ("" if Docker gave none)

    @property
    def name(self) -> str:
        return self.labels.name


@dataclass(frozen=True)
class Skipped:
    container_name: str
    reason: str


@dataclass
class Selection:
    agents: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def container_name(container: dict) -> str:
    names = container.get("Names") or [""]
    return names[0].lstrip("/")


def health_of(status: str) -> str:
    """`Up 3 seconds (healthy)` -> `healthy`; no health check -> `none`."""
    found = _HEALTH.search(status or "")
    if not found:
        return "none"
    return "starting" if found.group(1) == "health: starting" else found.group(1)


def select_agents(containers: list[dict], network: str) -> Selection:
    """Keep the containers that are agents on `network` (see module doc)."""
    selection = Selection()
    for container in containers:
        labels = container.get("Labels") or {}
        if AGENT not in labels:
            continue
        name = container_name(container)
        networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
        if network not in networks:
            # Labelled agents of other stacks (or tests) on other networks:
            # not ours to route, and not worth a warning.
            log.debug("container %s is not on network %s: ignored", name, network)
            continue
        if container.get("State", "running") != "running":
            continue
        try:
            decoded = decode_labels(labels)
        except LabelError as exc:
            log.warning("container %s skipped: %s", name, exc)
            selection.skipped.append(Skipped(name, str(exc)))
            continue
        if decoded.name != name:
            reason = (
                f"label {AGENT}={decoded.name!r} does not match the container name {name!r}: "
                "the worker names an agent's container after the agent"
            )
            log.warning("container %s skipped: %s", name, reason)
            selection.skipped.append(Skipped(name, reason))
            continue
        selection.agents.append(
            Candidate(
                container_id=container.get("Id", ""),
                container_name=name,
                labels=decoded,
                state=container.get("State", "running"),
                health=health_of(container.get("Status", "")),
                image=decoded.image or container.get("Image", ""),
                address=(networks[network] or {}).get("IPAddress", "") or "",
            )
        )
    selection.agents.sort(key=lambda agent: agent.name)
    return selection


def find_agent(agents: list[Candidate], name: str) -> Candidate | None:
    """The agent called exactly `name`, or None (never a prefix or pattern match)."""
    matches = [agent for agent in agents if agent.name == name]
    return matches[0] if matches else None


def list_containers(client: docker.DockerClient) -> list[dict]:
    """One API call: running containers carrying the agent label."""
    return client.api.containers(filters={"label": AGENT, "status": "running"})
