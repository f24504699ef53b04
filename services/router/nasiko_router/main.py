"""nasiko-router: picks the best agent for a query and forwards it (port 8081)."""

from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from nasiko_service.health import Check, health_report
from nasiko_service.logs import configure_logging
from nasiko_service.settings import ServiceSettings


class Settings(ServiceSettings):
    registry_url: str = "http://kong-service-registry:8080"


settings = Settings()


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging(settings.log_level)
    app.state.http = httpx.AsyncClient(timeout=10)
    yield
    await app.state.http.aclose()


app = FastAPI(title="nasiko-router", lifespan=lifespan)


async def registry_probe() -> None:
    response = await app.state.http.get(f"{settings.registry_url}/health", timeout=2)
    response.raise_for_status()


@app.get("/health")
async def health():
    return await health_report("nasiko-router", [Check("registry", registry_probe)])
