"""Deployments: queue one, read an agent's status, follow its progress."""

import asyncio

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from .. import commands, deployments, uploads_store
from ..deps import DbDep, RedisDep, SettingsDep
from ..names import InvalidAgentName, check_agent_name
from ..sources import SourceRejected, copy_directory

router = APIRouter(prefix="/orchestration", tags=["orchestration"])


class DeployRequest(BaseModel):
    agent_name: str
    # A folder the worker can see; without it, the agent's latest upload.
    agent_path: str | None = None


def valid_name(name: str) -> str:
    try:
        return check_agent_name(name)
    except InvalidAgentName as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None


@router.post("/deploy", status_code=status.HTTP_202_ACCEPTED)
async def deploy(body: DeployRequest, redis: RedisDep, db: DbDep, settings: SettingsDep) -> dict:
    """Queue a deployment of `agent_name` from `agent_path` or its latest upload."""
    name = valid_name(body.agent_name)
    upload_id = deployments.new_upload_id()
    if body.agent_path:
        try:
            path = deployments.allowed_folder(settings, body.agent_path)
        except deployments.NotAllowedPath as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
        upload_type = "path"
        if not deployments.in_uploads(settings, path):
            # The worker builds only what lies in the shared uploads volume, and a
            # deploy must not depend on a folder that may change: snapshot it.
            destination = settings.uploads_dir / name / upload_id
            try:
                limits = deployments.upload_limits(settings)
                path = await asyncio.to_thread(copy_directory, path, destination, limits)
            except SourceRejected as exc:
                raise HTTPException(exc.status_code, detail=exc.message) from None
            upload_type = "directory"
    else:
        latest = await uploads_store.latest_upload(db, name)
        if latest is None or not latest.get("agent_path"):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"agent {name!r} has no upload yet: upload it first (POST /api/v1/agents/upload)"
                " or give agent_path",
            )
        path, upload_type = latest["agent_path"], "redeploy"
    return await deployments.queue_deployment(
        redis,
        db,
        settings,
        agent_name=name,
        agent_path=str(path),
        upload_id=upload_id,
        upload_type=upload_type,
        new_document=True,
    )


@router.get("/status/{agent_name}")
async def agent_status(agent_name: str, redis: RedisDep) -> dict:
    found = await commands.read_status(redis, agent_name)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"agent {agent_name!r} has never been deployed")
    return found


@router.get("/events/{agent_name}")
async def agent_events(
    agent_name: str,
    redis: RedisDep,
    settings: SettingsDep,
    after: str = Query(
        "0",
        pattern=r"^(\d+(-\d+)?|\$)$",
        description="stream id of the last event seen (`last_id`); 0 = from the start, $ = only new ones",
    ),
    wait: float = Query(0, ge=0, description="seconds to wait for a first event (long poll)"),
) -> dict:
    """Progress events after `after`; waits up to `wait` seconds when there are none yet."""
    wait = min(wait, settings.events_max_wait_seconds)
    events, last_id = await commands.read_events(redis, agent_name, after, wait)
    return {"events": events, "last_id": last_id}
