"""GET /healthcheck: MongoDB and Redis are required; the registry is optional."""

import httpx
from fastapi import APIRouter, Request

from nasiko_service.health import Check, health_report
from nasiko_service.mongo import mongo_probe

router = APIRouter(tags=["health"])


def _registry_probe(url: str):
    async def probe() -> None:
        async with httpx.AsyncClient(timeout=1.5) as client:
            (await client.get(f"{url.rstrip('/')}/health")).raise_for_status()

    return probe


@router.get("/healthcheck")
async def healthcheck(request: Request):
    state = request.app.state
    return await health_report(
        "nasiko-backend",
        [
            Check("mongodb", mongo_probe(state.mongo)),
            Check("redis", state.redis.ping),
            Check("registry", _registry_probe(state.settings.registry_url), required=False),
        ],
    )
