"""Fixtures: the backend app in-process against a real Redis and the real
nx-27017 MongoDB stand-in, with its uploads folder in a temporary directory."""

import uuid
from pathlib import Path

import httpx
import pytest

from nasiko_backend.config import BackendSettings
from nasiko_backend.main import create_app
from tests.backend.live_server import LiveServer
from tests.utils.mongo_standin import MongoStandIn


@pytest.fixture
def backend_settings(tmp_path: Path, redis_url: str, mongo_standin: MongoStandIn) -> BackendSettings:
    """Settings for one test: its own uploads folder and its own database."""
    return BackendSettings(
        uploads_dir=tmp_path / "uploads",
        allowed_agent_roots=str(tmp_path / "shared"),
        mongo_host="127.0.0.1",
        mongo_port=mongo_standin.port,
        mongo_db=f"test_{uuid.uuid4().hex[:12]}",
        mongo_user="",
        redis_url=redis_url,
        registry_url="http://127.0.0.1:9",  # nothing listens: the optional check fails
        gateway_public_url="http://localhost:9100",
        max_upload_mb=1,
        max_upload_entries=20,
        events_max_wait_seconds=2,
    )


@pytest.fixture
def backend_server(backend_settings: BackendSettings):
    """The backend served over real HTTP on a free loopback port."""
    with LiveServer(create_app(backend_settings)) as server:
        yield server


@pytest.fixture
def client(backend_server: LiveServer):
    with httpx.Client(base_url=backend_server.url, timeout=30) as http:
        yield http
