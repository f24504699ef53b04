"""The deploy client against the real backend (uvicorn on a free port, real
Redis, the nx-27017 MongoDB stand-in) and a scripted worker."""

import shutil
from pathlib import Path

import pytest

from nasiko_backend.main import create_app
from tests.backend.conftest import backend_settings  # noqa: F401  (shared fixture)
from tests.backend.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backend(backend_settings):  # noqa: F811
    with LiveServer(create_app(backend_settings)) as server:
        yield server


@pytest.fixture
def agent_folder(tmp_path: Path) -> Path:
    """A copy of agents/a2a-minimal named `demo`, plus files .dockerignore must keep out."""
    folder = tmp_path / "agents" / "demo"
    shutil.copytree(ROOT / "agents/a2a-minimal", folder)
    compose = (folder / "docker-compose.yml").read_text().replace("a2a-minimal", "demo")
    (folder / "docker-compose.yml").write_text(compose)
    (folder / ".env").write_text("OPENAI_API_KEY=sk-secret\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "agent.cpython-311.pyc").write_bytes(b"\0")
    return folder
