"""An agent's companion services (a database, a cache...) from its docker-compose.yml.

Each agent with companions gets a network of its own, `nasiko-agent.NAME`;
the companions sit only there, reachable by their service name (an alias),
and the agent joins it besides the platform network. Companion containers are
named `NAME.SERVICE` and labelled `nasiko.companion-of=NAME` (never
`nasiko.agent`: the registry routes only agents). A companion whose settings
did not change is kept running across redeploys; one that left the compose
file is removed once the new version is ready; all go with the agent. A
companion whose settings changed is replaced before the agent's ready check:
if the new agent then fails, the previous one keeps running with the new
companion (companions are not rolled back).
"""

import logging
import time
from collections.abc import Callable

import docker
from docker.errors import APIError, ImageNotFound, NotFound

from .compose_policy import Companion
from .runner import MANAGED_BY, AgentRunner, ContainerFailed, container_kwargs, spec_hash

log = logging.getLogger(__name__)

COMPANION_LABEL = "nasiko.companion-of"
AGENT_NETWORK_LABEL = "nasiko.agent-network"


def agent_network_name(agent_name: str) -> str:
    return f"nasiko-agent.{agent_name}"


def companion_name(agent_name: str, service: str) -> str:
    return f"{agent_name}.{service}"


class CompanionRunner:
    def __init__(self, runner: AgentRunner) -> None:
        self.runner = runner
        self.client: docker.DockerClient = runner.client

    def ensure(self, agent_name: str, companions: list[Companion], timeout: float,
               on_wait: Callable[[str], None] | None = None) -> tuple[str, list[str]]:
        """Start (or keep) the agent's companions (at least one) and wait until they run.

        Returns (the agent's own network; the containers of companions the new
        version no longer has). Those keep running for the previous version
        until `drop` once the new one is ready. Every image is checked before
        anything is replaced."""
        wanted = {companion_name(agent_name, c.service): c for c in companions}
        stale = [name for name in self.existing(agent_name) if name not in wanted]
        to_start = []
        for name, companion in wanted.items():
            spec = spec_hash(companion.image, companion.options.environment, companion.options)
            current = self.runner.get(name)
            if current is not None and current.labels.get(COMPANION_LABEL) != agent_name:
                raise ContainerFailed(f"container {name!r} exists and is not a companion of {agent_name!r}: "
                                      f"remove or rename it (docker rm -f {name}) and deploy again")
            if current is not None and current.labels.get("nasiko.spec-hash") == spec and current.status == "running":
                continue
            to_start.append((name, companion, spec))
        for _, companion, _ in to_start:
            self._require_image(companion)
        network = self._network(agent_name)
        started = []
        for name, companion, spec in to_start:
            self.runner.remove(name)
            for volume in companion.options.named_volumes:
                self.runner.ensure_volume(volume, agent_name)
            labels = {COMPANION_LABEL: agent_name, "nasiko.companion": companion.service,
                      "nasiko.spec-hash": spec, "nasiko.managed-by": MANAGED_BY}
            endpoint = self.client.api.create_endpoint_config(aliases=[companion.service])
            container = self.client.containers.create(**container_kwargs(
                companion.image, name, labels, companion.options.environment, companion.options, network,
                networking_config={network: endpoint}))
            container.start()
            if on_wait is not None:
                on_wait(f"started companion {companion.service} ({companion.image})")
            started.append((companion.service, container))
        deadline = time.monotonic() + timeout
        for service, container in started:
            _wait_running(service, container, deadline)
        return network, stale

    def drop(self, agent_name: str, names: list[str], *, keep_network: bool) -> None:
        """Remove companions the running version no longer has (and their network if none is left)."""
        for name in names:
            self.runner.remove(name)
        if not keep_network:
            self.remove_network(agent_name)

    def remove(self, agent_name: str) -> None:
        """Remove all the agent's companions and its network."""
        self.drop(agent_name, self.existing(agent_name), keep_network=False)

    def remove_network(self, agent_name: str) -> None:
        try:
            self.client.networks.get(agent_network_name(agent_name)).remove()
        except NotFound:
            pass
        except APIError as exc:  # the agent's previous container still on it: removed with the next deploy
            log.info("network %s kept for now: %s", agent_network_name(agent_name), exc.explanation or exc)

    def existing(self, agent_name: str) -> list[str]:
        """Names of the agent's companion containers, as the engine has them now."""
        return [container.name for container in self._containers(agent_name)]

    def _containers(self, agent_name: str) -> list:
        return self.client.containers.list(all=True, filters={"label": f"{COMPANION_LABEL}={agent_name}"})

    def _network(self, agent_name: str) -> str:
        name = agent_network_name(agent_name)
        try:
            network = self.client.networks.get(name)
        except NotFound:
            self.client.networks.create(name, driver="bridge", labels={AGENT_NETWORK_LABEL: agent_name,
                                                                       "nasiko.managed-by": MANAGED_BY})
            return name
        if (network.attrs.get("Labels") or {}).get(AGENT_NETWORK_LABEL) != agent_name:
            raise ContainerFailed(f"network {name!r} exists and is not agent {agent_name!r}'s: remove it "
                                  f"(docker network rm {name}) and deploy again")
        return name

    def _require_image(self, companion: Companion) -> None:
        try:
            self.client.images.get(companion.image)
            return
        except ImageNotFound:
            pass
        try:
            self.client.images.pull(companion.image)
        except APIError as exc:
            raise ContainerFailed(
                f"companion {companion.service}: image {companion.image} is not on this machine and cannot be "
                f"pulled ({exc.explanation or exc}): pull or build it, or change `image:` in docker-compose.yml"
            ) from None


def _wait_running(service: str, container, deadline: float) -> None:
    """Running, and healthy if it has a health check (as `depends_on: service_healthy` would wait)."""
    while True:
        container.reload()
        state = container.attrs.get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        if state.get("Status") in {"exited", "dead"} or state.get("Restarting") or health == "unhealthy":
            tail = container.logs(tail=20).decode("utf-8", "replace").strip()
            what = "is unhealthy" if health == "unhealthy" else f"exited with code {state.get('ExitCode')}"
            raise ContainerFailed(f"companion {service} {what}" + (f"\nlast log lines:\n{tail}" if tail else ""))
        if state.get("Running") and health in (None, "healthy"):
            return
        if time.monotonic() > deadline:
            raise ContainerFailed(f"companion {service} was not running and healthy in time (health: {health})")
        time.sleep(0.2)
