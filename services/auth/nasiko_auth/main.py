"""nasiko-auth: users, access keys and token validation (port 8082)."""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from nasiko_service.health import Check, health_report
from nasiko_service.logs import configure_logging
from nasiko_service.mongo import mongo_client, mongo_probe
from nasiko_service.settings import ServiceSettings

settings = ServiceSettings()


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging(settings.log_level)
    app.state.mongo = mongo_client(settings)
    yield
    await app.state.mongo.close()


app = FastAPI(title="nasiko-auth", lifespan=lifespan)


@app.get("/health")
async def health():
    return await health_report("nasiko-auth", [Check("mongodb", mongo_probe(app.state.mongo, settings), timeout=3)])
