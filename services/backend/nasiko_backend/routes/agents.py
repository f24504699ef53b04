"""Agent sources: zip uploads, folder snapshots, and removal."""

import asyncio
import shutil
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from .. import deployments, registry_store, uploads_store
from ..commands import status_key
from ..deps import DbDep, RedisDep, SettingsDep
from ..sources import SourceRejected, copy_directory, extract_zip
from .orchestration import valid_name

router = APIRouter(prefix="/agents", tags=["agents"])

# Room for the multipart framing around the zip itself.
_MULTIPART_SLACK = 64 * 1024
_TRUE = {"1", "true", "yes", "on"}


class DirectoryUpload(BaseModel):
    agent_name: str
    directory: str
    deploy: bool = False


def _not_stored(settings, exc: OSError) -> HTTPException:
    return HTTPException(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        detail=f"the backend cannot store the upload in {settings.uploads_dir}: {exc.strerror or exc};"
        " the uploads volume must be writable by the backend (see GET /api/v1/healthcheck)",
    )


def _too_large(settings) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"the upload is larger than {settings.max_upload_mb} MB (MAX_UPLOAD_MB);"
        " leave out generated folders with .dockerignore",
    )


async def _stored(
    db, redis, settings, *, name: str, path: Path, upload_id: str, upload_type: str, deploy: bool
) -> dict:
    await uploads_store.record_upload(
        db,
        upload_id=upload_id,
        agent_name=name,
        agent_path=str(path),
        upload_type=upload_type,
        owner_id="local",
    )
    body = {"agent_name": name, "upload_id": upload_id, "agent_path": str(path), "status": "uploaded"}
    if deploy:
        body |= await deployments.queue_deployment(
            redis,
            db,
            settings,
            agent_name=name,
            agent_path=str(path),
            upload_id=upload_id,
            upload_type=upload_type,
            new_document=False,
        )
    return body


# The form is parsed by hand (so an oversized body is refused before it is
# read); this describes it for /docs all the same.
_UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["agent_name", "file"],
                    "properties": {
                        "agent_name": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                        "deploy": {"type": "boolean", "default": False},
                    },
                }
            }
        },
    }
}


@router.post("/upload", status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD_FORM)
async def upload_zip(request: Request, redis: RedisDep, db: DbDep, settings: SettingsDep) -> dict:
    """Upload an agent folder as a zip (multipart field `file`, plus `agent_name`;
    `deploy=true` also queues its deployment, answering with its events URL)."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes + _MULTIPART_SLACK:
        raise _too_large(settings)  # refused before reading a byte of it
    async with request.form(max_files=1, max_fields=10) as form:
        name = valid_name(str(form.get("agent_name") or ""))
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, detail="send the zip in the multipart field 'file'"
            )
        if (upload.size or 0) > settings.max_upload_bytes:
            raise _too_large(settings)
        upload_id = deployments.new_upload_id()
        destination = settings.uploads_dir / name / upload_id
        try:
            path = await asyncio.to_thread(
                extract_zip, upload.file, destination, deployments.upload_limits(settings)
            )
        except SourceRejected as exc:
            raise HTTPException(exc.status_code, detail=exc.message) from None
        except OSError as exc:
            raise _not_stored(settings, exc) from exc
        deploy = str(form.get("deploy") or "").lower() in _TRUE
    return await _stored(
        db, redis, settings, name=name, path=path, upload_id=upload_id, upload_type="zip", deploy=deploy
    )


@router.post("/upload-directory", status_code=status.HTTP_201_CREATED)
async def upload_directory(body: DirectoryUpload, redis: RedisDep, db: DbDep, settings: SettingsDep) -> dict:
    """Snapshot a folder the backend can see (under UPLOADS_DIR or ALLOWED_AGENT_ROOTS)."""
    name = valid_name(body.agent_name)
    try:
        source = deployments.allowed_folder(settings, body.directory)
    except deployments.NotAllowedPath as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    upload_id = deployments.new_upload_id()
    destination = settings.uploads_dir / name / upload_id
    try:
        path = await asyncio.to_thread(
            copy_directory, source, destination, deployments.upload_limits(settings)
        )
    except SourceRejected as exc:
        raise HTTPException(exc.status_code, detail=exc.message) from None
    except OSError as exc:
        raise _not_stored(settings, exc) from exc
    return await _stored(
        db,
        redis,
        settings,
        name=name,
        path=path,
        upload_id=upload_id,
        upload_type="directory",
        deploy=body.deploy,
    )


@router.delete("/{agent_name}", status_code=status.HTTP_202_ACCEPTED)
async def remove_agent(
    agent_name: str, redis: RedisDep, db: DbDep, settings: SettingsDep, purge_uploads: bool = False
) -> dict:
    """Queue removal of the agent's container (the worker does it) and drop its
    registry record; `purge_uploads=true` also deletes its stored sources."""
    name = valid_name(agent_name)
    had_record = await registry_store.delete(db, name)
    if not had_record and not await redis.exists(status_key(name)):
        # Neither a deployment nor a registry record: nothing to remove, say so.
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{name} is not deployed (no deployment recorded)")
    if purge_uploads:
        await asyncio.to_thread(shutil.rmtree, settings.uploads_dir / name, True)
    return await deployments.queue_removal(redis, settings, agent_name=name)
