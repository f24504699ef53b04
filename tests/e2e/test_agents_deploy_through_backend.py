"""The whole deploy loop without Compose: the deploy client -> the backend
(in-process, real Redis, the MongoDB stand-in) -> the real worker (in-process)
-> the real engine, with agents/a2a-minimal under a unique name and network."""

import contextlib
import shutil
import threading
import uuid
from pathlib import Path

import docker
import httpx
import pytest

from nasiko_backend.main import create_app
from nasiko_local.deploy import deploy_agent, remove_agent
from nasiko_local.docker_api import docker_client
from orchestrator.config import WorkerSettings
from orchestrator.worker import run_worker
from tests.backend.conftest import backend_settings  # noqa: F401  (shared fixture)
from tests.backend.live_server import LiveServer
from tests.e2e.agent_containers import send_message

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine():
    client = docker_client(timeout=600)
    yield client
    client.close()


@pytest.fixture
def network(engine):
    net = engine.networks.create(
        f"nasiko-test-deploy-{uuid.uuid4().hex[:8]}", labels={"nasiko.test": "deploy"}
    )
    yield net.name
    with contextlib.suppress(docker.errors.APIError):
        net.remove()


@pytest.fixture
def agent(tmp_path, engine):
    """agents/a2a-minimal copied under a unique agent name; its leftovers removed after."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / name
    shutil.copytree(ROOT / "agents/a2a-minimal", folder)
    compose = folder / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("a2a-minimal", name))
    yield name, folder
    for container in engine.containers.list(all=True, filters={"label": f"nasiko.agent={name}"}):
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True, v=True)
    for image in engine.images.list(filters={"reference": f"*/{name}*"}) + engine.images.list(name=name):
        for tag in image.tags:
            with contextlib.suppress(docker.errors.APIError):
                engine.images.remove(tag, noprune=True)


@pytest.fixture
def stack(backend_settings, network):  # noqa: F811
    """Backend over HTTP plus a worker thread, sharing the uploads folder."""
    with LiveServer(create_app(backend_settings)) as backend:
        settings = WorkerSettings(
            REDIS_URL=backend_settings.redis_url,
            BACKEND_URL=backend.url,
            DOCKER_NETWORK=network,
            UPLOADS_DIR=backend_settings.uploads_dir,
            WORKER_CONSUMER_NAME=f"e2e-{uuid.uuid4().hex[:6]}",
            WORKER_BLOCK_MS=500,
            WORKER_BUILD_NETWORK="host",  # the bridge reaches no package registry on these machines
        )
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(settings, stop), daemon=True)
        worker.start()
        yield backend
        stop.set()
        worker.join(timeout=30)


def test_deploy_redeploy_and_remove_through_the_backend(stack, agent, engine, network):
    name, folder = agent
    events = []

    first = deploy_agent(name, folder, backend_url=stack.url, on_event=events.append, timeout=300)

    assert first.status == "running", first
    assert first.url == f"http://localhost:9100/{name}/"
    assert any(e["kind"] == "result" for e in events)
    [container] = engine.containers.list(filters={"label": f"nasiko.agent={name}"})
    assert container.name == name
    assert container.labels["nasiko.port"] == "5000"
    ip = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    card = httpx.get(f"http://{ip}:5000/.well-known/agent-card.json", timeout=5).json()
    assert card["name"] == "a2a-minimal"
    assert send_message(f"http://{ip}:5000", "hi")["result"]["parts"][0]["text"] == "echo: hi"
    [latest, *_] = httpx.get(f"{stack.url}/api/v1/user/upload-agents", params={"agent_name": name}).json()[
        "uploads"
    ]
    assert (latest["upload_id"], latest["status"]) == (first.upload_id, "running")

    again = deploy_agent(name, folder, backend_url=stack.url, timeout=120)

    assert (again.status, again.image) == ("running", first.image)
    assert len(engine.containers.list(all=True, filters={"label": f"nasiko.agent={name}"})) == 1

    removed = remove_agent(name, backend_url=stack.url, timeout=60)

    assert removed.status == "removed"
    assert engine.containers.list(all=True, filters={"label": f"nasiko.agent={name}"}) == []
