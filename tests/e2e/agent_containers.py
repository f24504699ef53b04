"""Build and run agent images straight on the engine, for the agent e2e tests.

Everything created carries the label `nasiko.test=agents` and a unique name,
and is removed on exit (the image *tag* is removed; its layers stay cached, so
the next run builds in seconds). Containers are reached from the host by their
bridge IP on a network of their own.

    with AgentLab() as lab:
        image = lab.build(ROOT / "agents/a2a-minimal")
        agent = lab.run(image, name_prefix="a2a-minimal")
        lab.wait_http(agent, "/health")
"""

import contextlib
import time
import uuid
from pathlib import Path

import docker
import httpx

from nasiko_local.docker_api import docker_client

LABELS = {"nasiko.test": "agents"}


class AgentLab:
    def __init__(self) -> None:
        self.client = docker_client(timeout=900)
        self.suffix = uuid.uuid4().hex[:8]
        self.network = None
        self.containers: list = []
        self.tags: list[str] = []

    def __enter__(self) -> "AgentLab":
        self.network = self.client.networks.create(f"nasiko-test-agents-{self.suffix}", labels=LABELS)
        return self

    def __exit__(self, *exc) -> None:
        for container in self.containers:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True, v=True)
        if self.network is not None:
            with contextlib.suppress(docker.errors.APIError):
                self.network.remove()
        for tag in self.tags:
            # noprune keeps the layers, so the next run builds from cache.
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(tag, noprune=True)
        self.client.close()

    def build(self, folder: Path, name: str | None = None) -> str:
        """Build `folder` with the classic builder (as the worker does); returns the tag."""
        tag = f"nasiko-test/{name or folder.name}:e2e-{self.suffix}"
        try:
            self.client.images.build(path=str(folder), tag=tag, network_mode="host", rm=True, labels=LABELS)
        except docker.errors.BuildError as exc:
            tail = "".join(
                chunk.get("stream", "") or chunk.get("error", "") for chunk in list(exc.build_log)[-30:]
            )
            raise AssertionError(f"building {folder} failed: {exc.msg}\n{tail}") from exc
        self.tags.append(tag)
        return tag

    def run(self, image: str, name_prefix: str, environment: dict | None = None):
        container = self.client.containers.run(
            image,
            name=f"{name_prefix}-{self.suffix}",
            detach=True,
            network=self.network.name,
            environment=environment or {},
            labels=LABELS,
        )
        self.containers.append(container)
        return container

    def address(self, container, port: int) -> str:
        container.reload()
        ip = container.attrs["NetworkSettings"]["Networks"][self.network.name]["IPAddress"]
        return f"http://{ip}:{port}"

    def wait_http(self, container, path: str, port: int = 5000, timeout: float = 90) -> str:
        """Poll until `path` answers 200, re-reading the container's state each time."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            container.reload()
            if container.status in ("exited", "dead"):
                raise AssertionError(
                    f"{container.name} exited:\n{container.logs(tail=40).decode(errors='replace')}"
                )
            base = self.address(container, port)
            try:
                if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                    return base
            except httpx.HTTPError as exc:
                last_error = str(exc)
            time.sleep(0.3)
        raise AssertionError(
            f"{container.name} did not answer {path} in {timeout}s ({last_error}):\n"
            f"{container.logs(tail=40).decode(errors='replace')}"
        )


def send_message(base_url: str, text: str, method: str = "message/send", timeout: float = 120) -> dict:
    """One JSON-RPC `message/send` call; returns the whole JSON-RPC answer."""
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": {
            "message": {
                "role": "user",
                "messageId": uuid.uuid4().hex,
                "kind": "message",
                "parts": [{"kind": "text", "text": text}],
            }
        },
    }
    response = httpx.post(f"{base_url}/", json=call, timeout=timeout)
    response.raise_for_status()
    return response.json()
