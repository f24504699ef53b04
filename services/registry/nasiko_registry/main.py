"""kong-service-registry: discovers agent containers, renders Kong's config (port 8080)."""

import asyncio
from contextlib import asynccontextmanager

import docker
from fastapi import FastAPI

from nasiko_service.health import Check, health_report
from nasiko_service.logs import configure_logging
from nasiko_service.settings import ServiceSettings

settings = ServiceSettings()


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging(settings.log_level)
    app.state.docker = docker.from_env(version="auto")
    yield
    app.state.docker.close()


app = FastAPI(title="kong-service-registry", lifespan=lifespan)


async def docker_probe() -> dict:
    version = await asyncio.to_thread(app.state.docker.version)
    return {"engine": version.get("Version"), "api": version.get("ApiVersion")}


@app.get("/health")
async def health():
    return await health_report("kong-service-registry", [Check("docker", docker_probe)])
