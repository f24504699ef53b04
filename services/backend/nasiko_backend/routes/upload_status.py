"""Upload-status documents: the worker's callback, and the list users see."""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from .. import uploads_store
from ..deps import DbDep

router = APIRouter(tags=["uploads"])


class StatusCallback(BaseModel):
    """What the worker reports (DESIGN.md); unset fields stay as they were."""

    status: str | None = None
    stage: str | None = None
    message: str | None = None
    url: str | None = None
    image: str | None = None
    container_id: str | None = None
    upload_id: str | None = None


@router.put("/upload-status/agent/{agent_name}/latest")
async def update_latest_status(agent_name: str, body: StatusCallback, db: DbDep) -> dict:
    updated = await uploads_store.update_latest(db, agent_name, body.model_dump())
    if updated is None:
        wanted = f" with upload_id {body.upload_id!r}" if body.upload_id else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no upload of agent {agent_name!r}{wanted}")
    return updated


@router.get("/user/upload-agents")
async def list_uploads(db: DbDep, agent_name: str | None = None, limit: int = 100) -> dict:
    """Uploads and deployments, newest first (all agents, or one)."""
    return {"uploads": await uploads_store.list_uploads(db, agent_name, limit=min(max(limit, 1), 1000))}
