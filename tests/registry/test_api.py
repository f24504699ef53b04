"""The HTTP API when Docker cannot be reached: unhealthy, nothing written."""

import asyncio

import httpx

from nasiko_registry.main import create_app
from nasiko_registry.settings import RegistrySettings


def test_registry_is_unhealthy_and_writes_no_config_while_docker_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    config_path = tmp_path / "kong" / "kong.yml"
    settings = RegistrySettings(agent_network="agents", kong_admin_url="", kong_config_path=config_path)
    app = create_app(settings)

    async def scenario():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
                await asyncio.sleep(0.3)  # let the startup sync fail
                return (await client.get("/health"), await client.get("/status"),
                        await client.get("/agents/weather"), await client.post("/sync"))

    health, status, missing, sync = asyncio.run(scenario())
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"
    assert not config_path.exists()  # never an empty routing table because discovery failed
    assert "cannot list containers from Docker" in status.json()["last_sync"]["error"]
    assert missing.status_code == 404
    assert "no running agent named 'weather' on network 'agents'" in missing.json()["detail"]
    assert sync.json()["ok"] is False
