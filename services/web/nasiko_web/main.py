"""nasiko-web: the web UI (port 4000): agents, deployments, chat."""

from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from nasiko_service.health import Check, health_report
from nasiko_service.logs import configure_logging
from nasiko_service.settings import ServiceSettings


class Settings(ServiceSettings):
    backend_url: str = "http://nasiko-backend:8000"


settings = Settings()


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging(settings.log_level)
    app.state.http = httpx.AsyncClient(timeout=10)
    yield
    await app.state.http.aclose()


app = FastAPI(title="nasiko-web", lifespan=lifespan)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nasiko</title></head>
<body><h1>Nasiko</h1><p>Local development stack.</p></body></html>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


async def backend_probe() -> None:
    response = await app.state.http.get(f"{settings.backend_url}/api/v1/healthcheck", timeout=2)
    response.raise_for_status()


@app.get("/health")
async def health():
    # The page is served by this process; the backend is a peer it can live without.
    return await health_report("nasiko-web", [Check("backend", backend_probe, required=False)])
