"""Upload-status documents in MongoDB: one per upload (or deploy), newest last.

    {upload_id, agent_name, agent_path, upload_type, owner_id, status, stage,
     message, url, image, container_id, created_at, updated_at}

The worker reports the outcome of a deployment through
PUT /upload-status/agent/{name}/latest, which lands on the newest document of
that agent (or on the one named by `upload_id` when the callback gives it).
"""

from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

COLLECTION = "upload_status"
# Fields a callback may set; anything else in its body is ignored.
CALLBACK_FIELDS = ("status", "stage", "message", "url", "image", "container_id")


def _now() -> datetime:
    return datetime.now(UTC)


def _public(doc: dict | None) -> dict | None:
    """The document as the API shows it: no Mongo id, ISO 8601 times."""
    if doc is None:
        return None
    doc = {k: v for k, v in doc.items() if k != "_id"}
    for key in ("created_at", "updated_at"):
        if isinstance(doc.get(key), datetime):
            doc[key] = doc[key].isoformat()
    return doc


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[COLLECTION].create_index([("upload_id", ASCENDING)], unique=True)


async def record_upload(db: AsyncDatabase, **fields) -> dict:
    """Store a new upload document; `fields` must include upload_id and agent_name."""
    now = _now()
    doc = {
        "status": "uploaded",
        "stage": "uploaded",
        "message": "",
        "url": "",
        "image": "",
        "container_id": "",
        **fields,
        "created_at": now,
        "updated_at": now,
    }
    await db[COLLECTION].insert_one(doc)
    return _public(doc)


async def latest_upload(db: AsyncDatabase, agent_name: str) -> dict | None:
    doc = await db[COLLECTION].find_one({"agent_name": agent_name}, sort=[("created_at", DESCENDING)])
    return _public(doc)


async def set_status(db: AsyncDatabase, upload_id: str, **fields) -> None:
    await db[COLLECTION].update_one({"upload_id": upload_id}, {"$set": {**fields, "updated_at": _now()}})


async def update_latest(db: AsyncDatabase, agent_name: str, changes: dict) -> dict | None:
    """Apply a worker callback to the named upload or, without one, the newest."""
    query: dict = {"agent_name": agent_name}
    if changes.get("upload_id"):
        query["upload_id"] = changes["upload_id"]
    update = {k: changes[k] for k in CALLBACK_FIELDS if changes.get(k) is not None}
    update["updated_at"] = _now()
    doc = await db[COLLECTION].find_one_and_update(
        query, {"$set": update}, sort=[("created_at", DESCENDING)], return_document=True
    )
    return _public(doc)


async def list_uploads(db: AsyncDatabase, agent_name: str | None = None, limit: int = 100) -> list[dict]:
    query = {"agent_name": agent_name} if agent_name else {}
    cursor = db[COLLECTION].find(query).sort("created_at", DESCENDING).limit(limit)
    return [_public(doc) for doc in await cursor.to_list()]
