"""Auth, chat history, router and web: each healthy only when what it needs answers."""

import asyncio
import importlib

import httpx
import pytest

from tests.utils.redis_server import free_port


def _app(module: str, monkeypatch, **env):
    """The service's real module, imported with its settings taken from `env`."""
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return importlib.reload(importlib.import_module(module)).app


def _get(app, *paths: str) -> list[httpx.Response]:
    """GET each path in-process, with the app's lifespan (its clients) running."""

    async def run():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
                return [await client.get(path) for path in paths]

    return asyncio.run(run())


@pytest.mark.parametrize("module", ["nasiko_auth.main", "nasiko_chat_history.main"])
def test_mongo_backed_service_is_healthy_with_mongodb(module, monkeypatch, mongo_standin):
    app = _app(module, monkeypatch, MONGO_HOST="127.0.0.1", MONGO_PORT=mongo_standin.port, MONGO_USER="")
    [response] = _get(app, "/health")
    assert response.status_code == 200
    assert response.json()["checks"]["mongodb"]["ok"] is True


@pytest.mark.parametrize("module", ["nasiko_auth.main", "nasiko_chat_history.main"])
def test_mongo_backed_service_is_unhealthy_naming_the_unreachable_mongodb(module, monkeypatch):
    port = free_port()
    app = _app(module, monkeypatch, MONGO_HOST="127.0.0.1", MONGO_PORT=port, MONGO_USER="")
    [response] = _get(app, "/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["mongodb"]["error"].startswith(f"MongoDB at 127.0.0.1:{port}: ")


def test_router_needs_the_registry(monkeypatch):
    app = _app("nasiko_router.main", monkeypatch, REGISTRY_URL=f"http://127.0.0.1:{free_port()}")
    [response] = _get(app, "/health")
    assert response.status_code == 503
    assert response.json()["checks"]["registry"]["required"] is True


def test_web_serves_its_page_and_lives_without_the_backend(monkeypatch):
    app = _app("nasiko_web.main", monkeypatch, BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    page, health = _get(app, "/", "/health")
    assert page.status_code == 200 and "<h1>Nasiko</h1>" in page.text
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["backend"]["ok"] is False


def test_access_log_keeps_requests_but_drops_health_checks():
    import logging

    from nasiko_service.logs import QuietHealthChecks

    def access(path: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                                 ("127.0.0.1:5000", "GET", path, "1.1", 200), None)

    quiet = QuietHealthChecks()
    assert quiet.filter(access("/api/v1/agents/upload"))
    assert quiet.filter(access("/agents?name=x"))
    assert not quiet.filter(access("/health"))
    assert not quiet.filter(access("/api/v1/healthcheck?deep=1"))
