"""A live registry for e2e and bench tests: the real app (uvicorn in a thread)
against the real Docker engine, on a throw-away network of its own.

    with LiveRegistry(tmp_path) as live:
        live.start_agent("weather-3f2a")
        live.wait_for(lambda agents: "weather-3f2a" in agents)

Everything it creates is labelled `nasiko.test=registry` plus a per-run id
and removed on exit. Kong is not run: KONG_ADMIN_URL points at a closed port.
"""

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import httpx
import uvicorn

from nasiko_registry.main import create_app
from nasiko_registry.settings import RegistrySettings
from tests.utils.redis_server import free_port

AGENT_IMAGE = "nasiko-offline/python:3.11-slim"
TEST_LABEL = "nasiko.test"
# Serves a small agent card and a /health file, like an A2A agent on port 5000.
SERVE = (
    'mkdir -p /srv/.well-known && printf "%s" "$CARD" > /srv/.well-known/agent-card.json '
    "&& echo ok > /srv/health && cd /srv && exec python3 -m http.server 5000"
)


def agent_card(name: str) -> dict:
    return {"name": name, "description": "test agent", "url": "http://localhost:8000/", "version": "1.0",
            "capabilities": {}, "skills": [], "defaultInputModes": ["text"], "defaultOutputModes": ["text"]}


class LiveRegistry:
    def __init__(self, workdir: Path, *, network: str | None = None, gateway: str = "http://localhost:9100"):
        self.run_id = uuid.uuid4().hex[:8]
        self.client = docker.from_env(version="auto")
        self.own_network = network is None
        self.network_name = network or f"nasiko-test-{self.run_id}"
        self.config_path = workdir / "kong" / "kong.yml"
        self.settings = RegistrySettings(
            agent_network=self.network_name,
            kong_admin_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            kong_config_path=self.config_path,
            gateway_public_url=gateway,
            registry_resync_seconds=30,
            log_level="warning",
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=5, trust_env=False)
        self.containers: list = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LiveRegistry":
        if self.own_network:
            self.network = self.client.networks.create(
                self.network_name, labels={TEST_LABEL: "registry", "nasiko.test.run": self.run_id})
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        self.wait_until(lambda: self._healthy(), timeout=15, what="registry /health")
        return self

    def __exit__(self, *exc) -> None:
        for container in self.containers:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        if self._server:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self.own_network:
            with contextlib.suppress(docker.errors.APIError):
                self.network.remove()
        self.http.close()
        self.client.close()

    def _healthy(self) -> bool:
        try:
            return self.http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def start_agent(self, name: str, *, labels: dict | None = None, network: str | None = None):
        all_labels = {"nasiko.agent": name, "nasiko.port": "5000", "nasiko.content-hash": f"sha-{name}",
                      "nasiko.managed-by": "nasiko-worker", "nasiko.image": AGENT_IMAGE,
                      TEST_LABEL: "registry", "nasiko.test.run": self.run_id}
        all_labels.update(labels or {})
        container = self.client.containers.run(
            AGENT_IMAGE, ["sh", "-c", SERVE], name=name, detach=True, labels=all_labels,
            network=network or self.network_name, environment={"CARD": json.dumps(agent_card(name))},
        )
        self.containers.append(container)
        return container

    def agents(self) -> dict[str, dict]:
        return {agent["name"]: agent for agent in self.http.get("/agents").json()}

    def wait_until(
        self, check: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.01
    ) -> float:
        """Poll `check` until true; return the seconds it took (fails after timeout)."""
        start = time.monotonic()
        while not check():
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{what}: not reached within {timeout}s")
            time.sleep(poll)
        return time.monotonic() - start

    def config_text(self) -> str:
        return self.config_path.read_text() if self.config_path.exists() else ""
