"""Fixtures and helpers for tests that build and run real agent containers.

Everything created here is unique per test session or test (uuid suffixes),
labelled `nasiko.test=orchestrator`, attached to a private test network (never
nasiko-network), and removed at teardown. A test module outside this folder
loads the fixtures with::

    pytest_plugins = ["tests.orchestrator.agents"]

Helpers that talk to the stream live in tests/orchestrator/commands.py.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from orchestrator.config import WorkerSettings
from tests.utils.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_AGENT = REPO_ROOT / "tests" / "fixtures" / "agents" / "tiny"
TEST_LABEL = {"nasiko.test": "orchestrator"}
TEST_IMAGE_PREFIX = "nasiko-test-agent"


@dataclass
class AgentSource:
    """One agent under test; each `upload()` is a new version, stored like the backend stores it."""

    name: str
    uploads: Path
    extra_run: str = ""
    command: list[str] | None = None
    # Cold: a unique line before the dependency step, so nothing of this
    # agent's image can come from the engine's build cache.
    cold: bool = False
    versions: list[Path] = field(default_factory=list)

    def upload(self, greeting: str = "hello from tiny") -> Path:
        folder = self.uploads / self.name / uuid.uuid4().hex
        shutil.copytree(TINY_AGENT, folder)
        compose = (folder / "docker-compose.yml").read_text().replace("tiny", self.name)
        if self.command:
            compose += f"    command: {json.dumps(self.command)}\n"  # JSON is valid YAML
        (folder / "docker-compose.yml").write_text(compose)
        source = (folder / "agent.py").read_text()
        (folder / "agent.py").write_text(source.replace('GREETING = "hello from tiny"', f"GREETING = {greeting!r}"))
        dockerfile = (folder / "Dockerfile").read_text()
        if self.extra_run:
            dockerfile = dockerfile.replace("COPY . .", f"{self.extra_run}\nCOPY . .")
        if self.cold:
            dockerfile = dockerfile.replace("WORKDIR /app", f"WORKDIR /app\nENV COLD_BUILD_ID={self.name}")
        (folder / "Dockerfile").write_text(dockerfile)
        self.versions.append(folder)
        return folder


@pytest.fixture(scope="session")
def engine():
    client = docker.from_env(version="auto")
    client.ping()
    yield client
    client.close()


@pytest.fixture(scope="session")
def agent_network(engine):
    network = engine.networks.create(f"nasiko-test-{uuid.uuid4().hex[:8]}", driver="bridge", labels=TEST_LABEL)
    yield network.name
    network.reload()
    for container in network.containers:
        network.disconnect(container, force=True)
    network.remove()


@pytest.fixture
def uploads(tmp_path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


@pytest.fixture
def make_agent(engine, uploads):
    created: list[AgentSource] = []

    def factory(extra_run: str = "", command: list[str] | None = None, cold: bool = False) -> AgentSource:
        agent = AgentSource(f"tiny-{uuid.uuid4().hex[:8]}", uploads, extra_run, command, cold)
        created.append(agent)
        return agent

    yield factory
    for agent in created:
        remove_agent_resources(engine, agent.name)


def remove_agent_resources(engine: docker.DockerClient, name: str) -> None:
    selector = {"label": f"nasiko.agent={name}"}
    for container in engine.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for image in engine.images.list(filters=selector):
        with contextlib.suppress(docker.errors.NotFound):  # a parent removed along with its child
            engine.images.remove(image.id, force=True)
    for container in engine.containers.list(all=True, filters={"label": f"nasiko.companion-of={name}"}):
        container.remove(force=True)
    for network in engine.networks.list(filters={"label": f"nasiko.agent-network={name}"}):
        network.remove()
    for volume in engine.volumes.list(filters=selector):
        volume.remove(force=True)


@pytest.fixture
def worker_settings(redis_url, agent_network, uploads, tmp_path) -> WorkerSettings:
    return WorkerSettings(
        _env_file=None,
        REDIS_URL=redis_url,
        DOCKER_NETWORK=agent_network,
        UPLOADS_DIR=uploads,
        AGENT_REGISTRY_URL=TEST_IMAGE_PREFIX,
        BACKEND_URL="",
        WORKER_CONCURRENCY=4,
        WORKER_BUILD_NETWORK="host",  # the bridge reaches no package registry on these machines
        WORKER_BUILD_TIMEOUT_SECONDS=300,
        WORKER_READY_TIMEOUT_SECONDS=60,
        WORKER_CLAIM_IDLE_SECONDS=2,
        WORKER_BLOCK_MS=200,
        WORKER_CONSUMER_NAME=f"test-worker-{uuid.uuid4().hex[:6]}",
        WORKER_HEARTBEAT_FILE=tmp_path / "heartbeat",
        OPENAI_MODEL="stub-model",
    )


class WorkerProcess:
    """`python -m orchestrator` as a real subprocess, configured from WorkerSettings."""

    def __init__(self, settings: WorkerSettings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        env = {key: str(value) for key, value in self.settings.model_dump().items() if value not in ("", None)}
        env = {key: value for key, value in env.items() if key.isupper()}
        # Nothing listens there: callbacks fail fast, and must not fail deployments.
        env["BACKEND_URL"] = f"http://127.0.0.1:{free_port()}"
        return {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT), "LOG_LEVEL": "INFO"}

    def start(self) -> "WorkerProcess":
        # cwd outside the repo: the worker must not pick up a developer's .env.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator"],
                env=self.environment(),
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 20) -> int:
        if not self.alive():
            return self.process.returncode
        self.process.terminate()
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(worker_settings, tmp_path):
    started: list[WorkerProcess] = []

    def factory(settings: WorkerSettings | None = None) -> WorkerProcess:
        worker = WorkerProcess(settings or worker_settings, tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield factory
    for worker in started:
        if worker.alive():
            worker.kill()
