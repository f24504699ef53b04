"""nasiko-backend: the platform's REST API (port 8000, routes under /api/v1)."""

from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import APIRouter, FastAPI

from nasiko_service.health import Check, health_report
from nasiko_service.logs import configure_logging
from nasiko_service.mongo import mongo_client, mongo_probe
from nasiko_service.settings import ServiceSettings

settings = ServiceSettings()


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging(settings.log_level)
    app.state.mongo = mongo_client(settings)
    app.state.redis = aioredis.from_url(settings.redis_url, socket_timeout=5, decode_responses=True)
    yield
    await app.state.redis.aclose()
    await app.state.mongo.close()


app = FastAPI(title="nasiko-backend", lifespan=lifespan)
api = APIRouter(prefix="/api/v1")


@api.get("/healthcheck")
async def healthcheck():
    return await health_report(
        "nasiko-backend",
        [
            Check("mongodb", mongo_probe(app.state.mongo)),
            Check("redis", app.state.redis.ping),
        ],
    )


app.include_router(api)
