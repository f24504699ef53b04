"""GET /healthcheck: MongoDB and Redis required, the registry optional."""

import httpx

from nasiko_backend.main import create_app
from tests.backend.live_server import LiveServer
from tests.utils.redis_server import free_port


def test_health_is_degraded_but_up_when_only_the_registry_is_missing(client):
    response = client.get("/api/v1/healthcheck")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert [body["checks"][name]["ok"] for name in ("mongodb", "redis", "uploads")] == [True, True, True]
    assert body["checks"]["registry"] == {
        "ok": False,
        "required": False,
        "error": body["checks"]["registry"]["error"],
    }


def test_health_is_503_when_mongodb_is_unreachable(backend_settings):
    settings = backend_settings.model_copy(update={"mongo_port": free_port()})

    with LiveServer(create_app(settings)) as server:
        response = httpx.get(f"{server.url}/api/v1/healthcheck", timeout=10)

    assert response.status_code == 503
    assert response.json()["checks"]["mongodb"]["ok"] is False


def test_health_is_503_when_the_uploads_folder_cannot_be_written(backend_settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = backend_settings.model_copy(update={"uploads_dir": blocker / "uploads"})

    with LiveServer(create_app(settings)) as server:
        response = httpx.get(f"{server.url}/api/v1/healthcheck", timeout=10)

    assert response.status_code == 503
    assert response.json()["checks"]["uploads"]["ok"] is False
