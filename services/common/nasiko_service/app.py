"""The shape the small platform services share: logging, clients opened and
closed with the app, and a /health endpoint that runs the service's checks.

    settings = ServiceSettings()
    app = service_app("nasiko-auth", settings, mongo=True,
                      checks=lambda app: [Check("mongodb", mongo_probe(app.state.mongo, settings))])
"""

from collections.abc import Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from .health import Check, Probe, health_report
from .logs import configure_logging
from .mongo import mongo_client
from .settings import ServiceSettings


def service_app(name: str, settings: ServiceSettings, checks: Callable[[FastAPI], list[Check]], *,
                mongo: bool = False, http: bool = False) -> FastAPI:
    """A FastAPI app with `app.state.mongo` / `app.state.http` as asked, and GET /health."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.log_level)
        if mongo:
            app.state.mongo = mongo_client(settings)
        if http:
            app.state.http = httpx.AsyncClient(timeout=10)
        yield
        if http:
            await app.state.http.aclose()
        if mongo:
            await app.state.mongo.close()

    app = FastAPI(title=name, lifespan=lifespan)

    @app.get("/health")
    async def health():
        return await health_report(name, checks(app))

    return app


def http_probe(app: FastAPI, url: str) -> Probe:
    """A check that `url` answers 2xx, through the app's shared HTTP client."""

    async def probe() -> None:
        response = await app.state.http.get(url, timeout=2)
        response.raise_for_status()

    return probe
