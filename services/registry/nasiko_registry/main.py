"""kong-service-registry: discovers agent containers, renders Kong's config (port 8080).

    uvicorn nasiko_registry.main:app          # settings from the environment
    create_app(RegistrySettings(...))          # tests: explicit settings
"""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nasiko_service.logs import configure_logging

from .api import router
from .engine import Registry
from .settings import RegistrySettings


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.log_level)
        # One line per card fetch and Kong push would drown the useful lines.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        app.state.registry = Registry(settings)
        await app.state.registry.start()
        yield
        await app.state.registry.stop()

    app = FastAPI(title="kong-service-registry", lifespan=lifespan)
    app.include_router(router)
    return app


app = create_app()
