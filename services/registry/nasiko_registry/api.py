"""HTTP API of the registry (port 8080).

    GET  /agents         routed agents: name, gateway url, upstream, state, card...
    GET  /agents/{name}  one agent (exact name), 404 with the reason otherwise
    GET  /health         Docker reachable and config written (required); Kong (optional)
    GET  /status         last sync, Kong push outcome, config hash, agents left out
    POST /sync           resync now, push to Kong, return the outcome
"""

import asyncio

from fastapi import APIRouter, HTTPException, Request

from nasiko_service.health import Check, health_report

from .card_store import CardState
from .cards import gateway_url
from .discovery import Candidate, find_agent
from .engine import Registry

router = APIRouter()


def registry_of(request: Request) -> Registry:
    return request.app.state.registry


def agent_view(registry: Registry, agent: Candidate) -> dict:
    state: CardState | None = registry.cards.get(agent.container_id)
    result = state.result if state else None
    pending = state is None or state.pending
    problems = []
    if not pending and result is not None and result.status != "ok":
        problems.append(f"card {result.status}: {result.error}")
    if agent.health == "unhealthy":
        problems.append("the container's health check fails")
    status = "degraded" if problems else ("starting" if pending else "ok")
    return {
        "name": agent.name,
        "url": gateway_url(registry.settings.gateway_public_url, agent.name),
        "upstream": f"http://{agent.container_name}:{agent.labels.port}",
        "container_id": agent.container_id[:12],
        "state": agent.state,
        "health": agent.health,
        "image": agent.image,
        "content_hash": agent.labels.content_hash,
        "card": result.card if result else None,
        "card_source": result.source if result else None,
        "status": status,
        "problems": problems,
    }


@router.get("/agents")
async def list_agents(request: Request) -> list[dict]:
    registry = registry_of(request)
    return [agent_view(registry, agent) for agent in registry.snapshot.agents]


@router.get("/agents/{name}")
async def get_agent(name: str, request: Request) -> dict:
    registry = registry_of(request)
    agent = find_agent(registry.snapshot.agents, name)
    if agent is not None:
        return agent_view(registry, agent)
    reason = registry.snapshot.excluded.get(name)
    if reason:
        raise HTTPException(404, f"agent '{name}' is running but not routed: {reason}")
    raise HTTPException(
        404, f"no running agent named '{name}' on network '{registry.settings.agent_network}' "
        "(names match exactly; GET /agents lists them, `invoke deploy-agent --name NAME` starts one)",
    )


@router.get("/health")
async def health(request: Request):
    registry = registry_of(request)

    async def docker_probe() -> dict:
        client = registry.docker
        if client is None:
            raise RuntimeError(registry.snapshot.last_sync_error or "not connected to Docker yet")
        version = await asyncio.to_thread(client.version)
        return {"engine": version.get("Version"), "api": version.get("ApiVersion")}

    async def config_probe() -> dict:
        # Kong loads this file at start: report healthy only once it exists.
        if registry.snapshot.file_written_at is None:
            raise RuntimeError(f"{registry.settings.kong_config_path} not written yet (first sync pending)")
        return {"path": str(registry.settings.kong_config_path), "hash": registry.snapshot.config_hash}

    async def kong_probe() -> dict:
        if registry.kong is None:
            return {"disabled": True}
        return await registry.kong.probe()

    return await health_report("kong-service-registry", [
        Check("docker", docker_probe),
        Check("config_file", config_probe),
        Check("kong", kong_probe, required=False),
    ])


@router.get("/status")
async def status(request: Request) -> dict:
    registry = registry_of(request)
    snap = registry.snapshot
    kong_reachable = None
    if registry.kong is not None:
        try:
            await registry.kong.probe()
            kong_reachable = True
        except Exception:
            kong_reachable = False
    return {
        "last_sync": registry.sync_result(),
        "agent_network": registry.settings.agent_network,
        "config": {"path": str(registry.settings.kong_config_path), "hash": snap.config_hash,
                   "written_at": snap.file_written_at},
        "kong": {"admin_url": registry.settings.kong_admin_url or None, "reachable": kong_reachable,
                 "last_push": snap.kong},
        "agents": [agent.name for agent in snap.agents],
        "excluded": snap.excluded,
    }


@router.post("/sync")
async def sync(request: Request) -> dict:
    registry = registry_of(request)
    result = await registry.sync("POST /sync")
    if result["ok"]:
        await registry.publish()
    return {**result, "kong": registry.snapshot.kong}
