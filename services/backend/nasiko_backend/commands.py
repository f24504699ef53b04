"""The Redis side of a deployment, as agreed with the worker (DESIGN.md).

    orchestration:commands       stream the worker's group `orchestrator` reads
    agent:status:{agent_name}    hash, replaced whole by each deployment
    agent:events:{agent_name}    stream of stage/log/result events (MAXLEN ~1000)

Queuing a deployment writes, in one transaction, the status hash (queued),
its first event and the command, so a reader that sees the command also sees
a status that belongs to it.
"""

from datetime import UTC, datetime

from redis.asyncio import Redis

COMMANDS_STREAM = "orchestration:commands"
EVENTS_MAXLEN = 1000
STATUS_FIELDS = (
    "agent_name",
    "status",
    "stage",
    "message",
    "url",
    "container_id",
    "image",
    "last_updated",
    "upload_id",
)


def status_key(agent_name: str) -> str:
    return f"agent:status:{agent_name}"


def events_key(agent_name: str) -> str:
    return f"agent:events:{agent_name}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


async def queue_command(
    redis: Redis,
    *,
    command: str,
    agent_name: str,
    upload_id: str,
    agent_path: str = "",
    base_url: str = "",
    owner_id: str = "local",
    upload_type: str = "",
    source: str = "backend",
    message: str,
) -> str:
    """Record `queued` for the agent and add the command; returns the command's stream id."""
    now = utc_now()
    status = {
        "agent_name": agent_name,
        "status": "queued",
        "stage": "queued",
        "message": message,
        "url": "",
        "container_id": "",
        "image": "",
        "last_updated": now,
        "upload_id": upload_id,
    }
    event = {
        "upload_id": upload_id,
        "kind": "stage",
        "status": "queued",
        "stage": "queued",
        "message": message,
        "timestamp": now,
    }
    fields = {
        "command": command,
        "agent_name": agent_name,
        "agent_path": agent_path,
        "base_url": base_url,
        "owner_id": owner_id,
        "upload_id": upload_id,
        "upload_type": upload_type,
        "timestamp": now,
        "source": source,
    }
    async with redis.pipeline(transaction=True) as pipe:
        # Replaced whole: a previous deployment's url or container id must not linger.
        pipe.delete(status_key(agent_name))
        pipe.hset(status_key(agent_name), mapping=status)
        pipe.xadd(events_key(agent_name), event, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.xadd(COMMANDS_STREAM, fields)
        results = await pipe.execute()
    return results[-1]


async def read_status(redis: Redis, agent_name: str) -> dict | None:
    status = await redis.hgetall(status_key(agent_name))
    return status or None


async def read_events(
    redis: Redis, agent_name: str, after: str, wait_seconds: float
) -> tuple[list[dict], str]:
    """Events after stream id `after`, waiting up to `wait_seconds` for the first one.

    `after="0"` (or "0-0") reads from the beginning; "$" only waits for new ones.
    Returns the events and the id to pass as `after` next time.
    """
    key = events_key(agent_name)
    if after == "$":
        # Resolve "$" now, so the caller gets a concrete id to continue from
        # even when nothing arrives.
        last = await redis.xrevrange(key, count=1)
        after = last[0][0] if last else "0-0"
    block_ms = int(wait_seconds * 1000)
    answer = await redis.xread({key: after}, count=500, block=block_ms if block_ms > 0 else None)
    events = [{"id": entry_id, **fields} for _, entries in answer for entry_id, fields in entries]
    return events, (events[-1]["id"] if events else after)
