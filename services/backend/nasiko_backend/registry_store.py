"""Registry records: what the platform knows about each deployed agent.

    {name, url, status, card, image, updated_at}

The backend writes a record when the worker reports a deployment running
(the upload-status callback); `PUT /registry/agent/{name}` writes one by hand,
and removing the agent deletes it.

`url` is always the agent's route on the gateway ({GATEWAY_PUBLIC_URL}/{name}/):
a container IP changes on every restart and is unreachable from the host, so a
record carrying one would send users nowhere.
"""

from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

COLLECTION = "agent_registry"


def _public(doc: dict | None) -> dict | None:
    if doc is None:
        return None
    doc = {k: v for k, v in doc.items() if k != "_id"}
    if isinstance(doc.get("updated_at"), datetime):
        doc["updated_at"] = doc["updated_at"].isoformat()
    return doc


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[COLLECTION].create_index([("name", ASCENDING)], unique=True)


async def upsert(db: AsyncDatabase, record: dict) -> dict:
    doc = {**record, "updated_at": datetime.now(UTC)}
    await db[COLLECTION].replace_one({"name": record["name"]}, doc, upsert=True)
    return _public(doc)


async def get(db: AsyncDatabase, name: str) -> dict | None:
    return _public(await db[COLLECTION].find_one({"name": name}))


async def search(db: AsyncDatabase, name: str | None = None) -> list[dict]:
    query = {"name": name} if name else {}
    return [_public(d) for d in await db[COLLECTION].find(query).sort("name", ASCENDING).to_list()]


async def delete(db: AsyncDatabase, name: str) -> bool:
    result = await db[COLLECTION].delete_one({"name": name})
    return result.deleted_count > 0
