"""Upload-status documents: the worker's callback, and the list users see."""

import json
import logging
from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from .. import registry_store, uploads_store
from ..deps import DbDep, SettingsDep

log = logging.getLogger(__name__)

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
async def update_latest_status(agent_name: str, body: StatusCallback, db: DbDep, settings: SettingsDep) -> dict:
    if body.status == "removed":
        # The worker removed the agent. Callbacks arrive in the order the worker
        # sent them, so a deployment that finished just before cannot bring the record back.
        await registry_store.delete(db, agent_name)
        return {"agent_name": agent_name, "status": "removed"}
    updated = await uploads_store.update_latest(db, agent_name, body.model_dump())
    if updated is None:
        wanted = f" with upload_id {body.upload_id!r}" if body.upload_id else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no upload of agent {agent_name!r}{wanted}")
    if body.status == "running":
        # A running deployment is what the platform's registry lists; a failed
        # redeploy leaves the record alone (the previous version keeps running).
        url = settings.agent_url(agent_name)
        card = _card_of(updated.get("agent_path", ""))
        if card is not None:
            card["url"] = url  # a card's own url (often http://localhost:5000) is not where users reach it
        await registry_store.upsert(db, {
            "name": agent_name, "url": url, "status": "running", "image": body.image or "",
            "description": (card or {}).get("description", ""), "card": card,
        })
    return updated


def _card_of(agent_path: str) -> dict | None:
    """The uploaded AgentCard.json as a dict; None if it cannot be read."""
    if not agent_path:
        return None
    try:
        card = json.loads((Path(agent_path) / "AgentCard.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("no readable AgentCard.json in %s: %s", agent_path, exc)
        return None
    return card if isinstance(card, dict) else None


@router.get("/user/upload-agents")
async def list_uploads(db: DbDep, agent_name: str | None = None, limit: int = 100) -> dict:
    """Uploads and deployments, newest first (all agents, or one)."""
    return {"uploads": await uploads_store.list_uploads(db, agent_name, limit=min(max(limit, 1), 1000))}
