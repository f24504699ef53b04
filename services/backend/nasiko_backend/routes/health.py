"""GET /healthcheck: MongoDB, Redis and a writable uploads folder are
required; the registry is optional."""

import asyncio
import os
import tempfile
from pathlib import Path

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


def _uploads_probe(folder: Path):
    def writable() -> None:
        if not os.access(folder, os.W_OK):
            raise PermissionError(
                f"{folder} is not writable by uid {os.getuid()}: recreate the uploads volume"
                " (docker volume rm nasiko_agent-uploads) or fix its owner"
            )
        with tempfile.TemporaryFile(dir=folder):
            pass

    async def probe() -> None:
        await asyncio.to_thread(writable)

    return probe


@router.get("/healthcheck")
async def healthcheck(request: Request):
    state = request.app.state
    return await health_report(
        "nasiko-backend",
        [
            Check("mongodb", mongo_probe(state.mongo, state.settings), timeout=3),
            Check("redis", state.redis.ping),
            Check("uploads", _uploads_probe(state.settings.uploads_dir)),
            Check("registry", _registry_probe(state.settings.registry_url), required=False),
        ],
    )
