"""One container per agent: start it (or keep it), replace it safely.

The container is named exactly after the agent and carries the labels other
components read (`nasiko.agent`, `nasiko.content-hash`, `nasiko.port`,
`nasiko.managed-by`, `nasiko.image`) plus `nasiko.spec-hash`, a hash of
everything else that shapes the container (image, environment, command,
volumes...). When the running container already has the same content and
spec hash and is not failing, it is kept: redeploying unchanged sources costs
one inspect.

Replacing races with the engine: a force-remove can answer 404 (already gone)
or 409 ("removal ... already in progress", e.g. a second deployment or the
restart policy); both are fine, and the worker then waits until the name is
actually free before creating the new container.
"""

import hashlib
import json
import logging
import time

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from .compose_policy import RunOptions

log = logging.getLogger(__name__)

AGENT_PORT = 5000
MANAGED_BY = "nasiko-worker"


class ContainerFailed(Exception):
    """The agent container could not be started or did not become ready."""


def spec_hash(image_ref: str, environment: dict[str, str], options: RunOptions, also_on: str | None = None) -> str:
    spec = {
        "also_on": also_on,
        "image": image_ref,
        "environment": environment,
        "command": options.command,
        "entrypoint": options.entrypoint,
        "working_dir": options.working_dir,
        "user": options.user,
        "healthcheck": options.healthcheck,
        "volumes": options.volumes,
        "privileged": options.privileged,
        "pid_mode": options.pid_mode,
        "ipc_mode": options.ipc_mode,
        "cap_add": options.cap_add,
        "devices": options.devices,
        "security_opt": options.security_opt,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def container_kwargs(image_ref: str, name: str, labels: dict[str, str], environment: dict[str, str],
                     options: RunOptions, network: str, **extra) -> dict:
    """docker-py `containers.create` arguments for a service's RunOptions (unset ones left out)."""
    kwargs = {
        "image": image_ref,
        "name": name,
        "labels": labels,
        "environment": environment,
        "network": network,
        "restart_policy": {"Name": "unless-stopped"},
        "command": options.command,
        "entrypoint": options.entrypoint,
        "working_dir": options.working_dir,
        "user": options.user,
        "healthcheck": options.healthcheck,
        "volumes": options.volumes or None,
        "privileged": options.privileged,
        "pid_mode": options.pid_mode,
        "ipc_mode": options.ipc_mode,
        "cap_add": options.cap_add or None,
        "devices": options.devices or None,
        "security_opt": options.security_opt or None,
        "detach": True,
        **extra,
    }
    return {key: value for key, value in kwargs.items() if value is not None}


class AgentRunner:
    def __init__(self, client: docker.DockerClient, network: str, replace_timeout: float = 60.0) -> None:
        self.client = client
        self.network = network
        self.replace_timeout = replace_timeout

    def ensure_container(
        self,
        agent_name: str,
        image_ref: str,
        content_hash: str,
        environment: dict[str, str],
        options: RunOptions,
        card_path: str = "",
        also_on: str | None = None,
    ) -> tuple[Container, bool]:
        """Return (container, kept): the existing one if it matches and is healthy, else a new one.
        `also_on`: a second network to join (the agent's own, where its companions are)."""
        wanted_spec = spec_hash(image_ref, environment, options, also_on)
        current = self.get(agent_name)
        if current is not None and self._can_keep(current, content_hash, wanted_spec):
            return current, True
        self._require_network()
        self.set_aside(agent_name)
        labels = {
            "nasiko.agent": agent_name,
            "nasiko.content-hash": content_hash,
            "nasiko.spec-hash": wanted_spec,
            "nasiko.port": str(AGENT_PORT),
            "nasiko.managed-by": MANAGED_BY,
            "nasiko.image": image_ref,
        }
        if card_path:
            # The registry's last fallback for the agent card (read inside the uploads volume).
            labels["nasiko.card-path"] = card_path
        for volume in options.named_volumes:
            self.ensure_volume(volume, agent_name)
        kwargs = container_kwargs(image_ref, agent_name, labels, environment, options, self.network)
        deadline = time.monotonic() + self.replace_timeout
        while True:
            self.remove(agent_name, deadline)
            try:
                container = self.client.containers.create(**kwargs)
                if also_on:  # before start, so the companions' names resolve from the first moment
                    self.client.networks.get(also_on).connect(container)
                container.start()
                container.reload()
                return container, False
            except APIError as exc:
                # Someone else (another deployment of this agent) took the name
                # between our removal and our create (409), or removed our new
                # container before it started (404/409): start over until the deadline.
                if exc.status_code not in (404, 409) or time.monotonic() > deadline:
                    raise

    # --- keeping the previous version until the new one is ready ----------------------
    @staticmethod
    def previous_name(agent_name: str) -> str:
        return f"{agent_name}.previous"

    def set_aside(self, agent_name: str) -> None:
        """Rename a running container out of the way (it keeps serving its
        clients); `discard_previous` or `restore_previous` ends the swap."""
        self.remove(self.previous_name(agent_name))  # a swap a crash left unfinished
        current = self.get(agent_name)
        if current is None or current.status != "running":
            return  # nothing worth keeping: the plain replacement removes it
        try:
            current.rename(self.previous_name(agent_name))
        except APIError as exc:
            # Gone meanwhile, or another replacement took the name first (only
            # outside the worker's per-agent order): fall back to replacing it.
            log.info("could not set %s aside (%s); it will be replaced", agent_name, exc)

    def discard_previous(self, agent_name: str) -> None:
        self.remove(self.previous_name(agent_name))

    def restore_previous(self, agent_name: str) -> bool:
        """Remove the failed new container and give the previous one its name back."""
        previous = self.get(self.previous_name(agent_name))
        if previous is None:
            return False
        self.remove(agent_name)
        previous.rename(agent_name)
        return True

    def remove(self, agent_name: str, deadline: float | None = None) -> bool:
        """Force-remove the agent's container and wait until its name is free."""
        deadline = deadline if deadline is not None else time.monotonic() + self.replace_timeout
        removed = False
        while True:
            container = self.get(agent_name)
            if container is None:
                return removed
            try:
                container.remove(force=True, v=False)
                removed = True
            except NotFound:
                pass
            except APIError as exc:
                if exc.status_code != 409:  # 409: removal already in progress
                    raise
            if time.monotonic() > deadline:
                raise ContainerFailed(
                    f"container {agent_name!r} could not be removed in time: "
                    f"remove it by hand (docker rm -f {agent_name})"
                )
            time.sleep(0.1)

    def get(self, name: str) -> Container | None:
        """The container named exactly `name`, or None.

        The engine resolves a missing name as an id prefix too (agent `cafe`
        would find container id cafe12...): only an exact name match counts.
        """
        try:
            container = self.client.containers.get(name)
        except NotFound:
            return None
        return container if container.name == name else None

    @staticmethod
    def _can_keep(container: Container, content_hash: str, wanted_spec: str) -> bool:
        labels = container.labels
        state = container.attrs.get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        return (
            labels.get("nasiko.managed-by") == MANAGED_BY
            and labels.get("nasiko.content-hash") == content_hash
            and labels.get("nasiko.spec-hash") == wanted_spec
            and state.get("Running") is True
            and not state.get("Restarting")
            and health != "unhealthy"
        )

    def _require_network(self) -> None:
        try:
            self.client.networks.get(self.network)
        except NotFound:
            raise ContainerFailed(
                f"docker network {self.network!r} does not exist: start the stack first (invoke up) "
                "or set DOCKER_NETWORK"
            ) from None

    def ensure_volume(self, name: str, agent_name: str) -> None:
        try:
            volume = self.client.volumes.get(name)
        except NotFound:
            self.client.volumes.create(name, labels={"nasiko.agent": agent_name, "nasiko.managed-by": MANAGED_BY})
            return
        if (volume.attrs.get("Labels") or {}).get("nasiko.agent") != agent_name:
            raise ContainerFailed(
                f"volume {name!r} exists and does not belong to agent {agent_name!r}: "
                "refusing to mount it; rename the volume in the agent's docker-compose.yml"
            )
