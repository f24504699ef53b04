"""Registry records of deployed agents; each points at the agent's gateway URL."""

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from .. import registry_store
from ..deps import DbDep, SettingsDep
from .orchestration import valid_name

router = APIRouter(tags=["registry"])


class RegistryRecord(BaseModel):
    # Omitted: the gateway URL is filled in. Given: it must be that URL.
    url: str | None = None
    status: str = "running"
    image: str = ""
    description: str = ""
    card: dict[str, Any] | None = None


@router.get("/registries")
async def list_records(db: DbDep, name: str | None = None) -> list[dict]:
    return await registry_store.search(db, name)


@router.get("/registry/agent/name/{agent_name}")
async def get_record(agent_name: str, db: DbDep) -> dict:
    record = await registry_store.get(db, agent_name)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"agent {agent_name!r} is not in the registry")
    return record


@router.put("/registry/agent/{agent_name}")
async def put_record(agent_name: str, body: RegistryRecord, db: DbDep, settings: SettingsDep) -> dict:
    name = valid_name(agent_name)
    expected = settings.agent_url(name)
    if body.url is not None and body.url.rstrip("/") != expected.rstrip("/"):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"url {body.url!r} is not the agent's gateway URL {expected!r}; records point at the"
            " gateway because container addresses change on every restart and the host cannot reach them",
        )
    return await registry_store.upsert(db, {**body.model_dump(), "name": name, "url": expected})
