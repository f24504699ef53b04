"""nasiko-backend: the platform's REST API (port 8000, routes under /api/v1).

`create_app(settings)` builds the app (tests hand it their own settings);
`app` is the instance the image serves.
"""

import logging
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import APIRouter, FastAPI

from nasiko_service.logs import configure_logging
from nasiko_service.mongo import mongo_client

from . import registry_store, uploads_store
from .config import BackendSettings
from .routes import agents, health, orchestration, registry, upload_status


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    settings = settings or BackendSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.log_level)
        try:
            settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # reported by the health check, which names the fix
            logging.getLogger(__name__).error("cannot create %s: %s", settings.uploads_dir, exc)
        app.state.settings = settings
        app.state.mongo = mongo_client(settings)
        # The socket timeout must outlast the longest blocking XREAD of the
        # events long poll, or every long poll would end in a timeout error.
        app.state.redis = aioredis.from_url(
            settings.redis_url, socket_timeout=settings.events_max_wait_seconds + 10, decode_responses=True
        )
        db = app.state.mongo[settings.mongo_db]
        try:
            await uploads_store.ensure_indexes(db)
            await registry_store.ensure_indexes(db)
        except Exception as exc:  # MongoDB not up yet: the health check reports it
            logging.getLogger(__name__).warning("could not create MongoDB indexes yet: %s", exc)
        yield
        await app.state.redis.aclose()
        await app.state.mongo.close()

    app = FastAPI(title="nasiko-backend", lifespan=lifespan)
    api = APIRouter(prefix="/api/v1")
    for module in (health, orchestration, agents, upload_status, registry):
        api.include_router(module.router)
    app.include_router(api)
    return app


app = create_app()
