"""Queue work for the worker and keep the upload-status document in step.

upload_id = new_upload_id()          # "20261203T185012-3f9a1c2b"
answer = await queue_deployment(redis, db, settings, agent_name="crewai",
                                agent_path="/data/uploads/crewai/<id>", upload_id=upload_id,
                                upload_type="zip")
answer["events_url"]   # where to follow the progress
"""

import secrets
from datetime import UTC, datetime
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from . import commands, uploads_store
from .config import BackendSettings
from .sources import Limits


class NotAllowedPath(ValueError):
    """A folder the worker could not see, or that the backend may not read."""


def new_upload_id() -> str:
    """Sortable by time, unique by its random tail, safe as a folder name."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def upload_limits(settings: BackendSettings) -> Limits:
    return Limits(max_entries=settings.max_upload_entries, max_bytes=settings.max_upload_bytes)


def in_uploads(settings: BackendSettings, folder: Path) -> bool:
    uploads = settings.uploads_dir.resolve()
    return folder == uploads or uploads in folder.parents


def allowed_folder(settings: BackendSettings, folder: str) -> Path:
    """`folder` resolved, if it is an existing folder under an allowed root."""
    path = Path(folder)
    if not path.is_absolute():
        raise NotAllowedPath(f"{folder!r} is not an absolute path")
    resolved = path.resolve()
    roots = [r.resolve() for r in settings.allowed_roots]
    if not any(resolved == r or r in resolved.parents for r in roots):
        shown = ", ".join(str(r) for r in settings.allowed_roots)
        raise NotAllowedPath(
            f"{folder!r} is outside the folders the backend and the worker share ({shown});"
            " upload the agent as a zip instead, or add its parent folder to ALLOWED_AGENT_ROOTS"
        )
    if not resolved.is_dir():
        raise NotAllowedPath(f"{folder!r} is not a folder the backend can see")
    return resolved


def _links(agent_name: str) -> dict:
    return {
        "events_url": f"/api/v1/orchestration/events/{agent_name}?after=0",
        "status_url": f"/api/v1/orchestration/status/{agent_name}",
    }


async def queue_deployment(
    redis: Redis,
    db: AsyncDatabase,
    settings: BackendSettings,
    *,
    agent_name: str,
    agent_path: str,
    upload_id: str,
    upload_type: str,
    new_document: bool,
) -> dict:
    """Queue `deploy_agent` for the sources at `agent_path`; returns the 202 body."""
    message = f"Deployment of {agent_name} queued"
    if new_document:
        await uploads_store.record_upload(
            db,
            upload_id=upload_id,
            agent_name=agent_name,
            agent_path=agent_path,
            upload_type=upload_type,
            owner_id="local",
        )
    await uploads_store.set_status(db, upload_id, status="queued", stage="queued", message=message)
    await commands.queue_command(
        redis,
        command="deploy_agent",
        agent_name=agent_name,
        agent_path=agent_path,
        upload_id=upload_id,
        upload_type=upload_type,
        base_url=settings.backend_url,
        message=message,
    )
    return {"agent_name": agent_name, "upload_id": upload_id, "status": "queued", **_links(agent_name)}


async def queue_removal(redis: Redis, settings: BackendSettings, *, agent_name: str) -> dict:
    """Queue `remove_agent`: the worker removes the agent's containers."""
    upload_id = new_upload_id()
    await commands.queue_command(
        redis,
        command="remove_agent",
        agent_name=agent_name,
        upload_id=upload_id,
        upload_type="remove",
        base_url=settings.backend_url,
        message=f"Removal of {agent_name} queued",
    )
    return {"agent_name": agent_name, "upload_id": upload_id, "status": "queued", **_links(agent_name)}
