"""At start, the worker squares the status records with the engine.

Redis keeps its data across `invoke down` (append-only volume), containers do
not: an agent recorded as `running` whose container is gone would otherwise
stay `running` in the status hash and in the backend's documents forever.
Such a record becomes `failed` (stage `gone`), saying what happened, and the
backend hears it through the usual callback. Records of deployments still in
progress are left alone: their commands are pending and will be redone.
"""

import logging

import docker
import redis
from docker.errors import NotFound

from .status import BackendCallback, DeploymentStatus, status_key

log = logging.getLogger(__name__)


def _container_running(engine: docker.DockerClient, name: str) -> bool:
    try:
        container = engine.containers.get(name)
    except NotFound:
        return False
    return container.name == name and container.status in ("running", "restarting")


def reconcile_statuses(client: redis.Redis, engine: docker.DockerClient,
                       callback: BackendCallback | None = None) -> list[str]:
    """Mark `running` agents whose container is gone; returns their names."""
    gone = []
    for key in client.scan_iter(match=status_key("*"), count=100):
        fields = client.hgetall(key)
        name = fields.get("agent_name", "")
        if fields.get("status") != "running" or not name or _container_running(engine, name):
            continue
        DeploymentStatus(client, name, fields.get("upload_id", ""), callback).gone(
            fields, f"the container of {name} is gone (the stack was stopped, or it was removed): deploy it again")
        gone.append(name)
    if gone:
        log.info("agents recorded as running without a container: %s", ", ".join(sorted(gone)))
    return gone
