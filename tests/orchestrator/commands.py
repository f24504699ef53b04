"""Talking to the worker the way the backend and the deploy client do: XADD, then follow events."""

import time
import uuid
from pathlib import Path

import redis

from orchestrator.consumer import STREAM
from orchestrator.status import events_key


def send_deploy(client: redis.Redis, agent, folder: Path) -> str:
    """XADD a deploy command exactly as the backend does; returns its upload_id.

    Each command gets its own upload_id (as each backend upload does), so the
    results of two deployments of the same folder are never confused.
    """
    upload_id = f"{folder.name}-{uuid.uuid4().hex[:8]}"
    client.xadd(
        STREAM,
        {
            "command": "deploy_agent",
            "agent_name": agent.name,
            "agent_path": str(folder),
            "base_url": "",
            "owner_id": "test",
            "upload_id": upload_id,
            "upload_type": "directory",
            "timestamp": str(time.time()),
            "source": "tests",
        },
    )
    return upload_id


def events_of(client: redis.Redis, name: str, upload_id: str) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange(events_key(name)) if fields.get("upload_id") == upload_id]


def wait_result(client: redis.Redis, name: str, upload_id: str, timeout: float = 240) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        results = [e for e in events_of(client, name, upload_id) if e["kind"] == "result"]
        if results:
            return results[0]
        time.sleep(0.1)
    raise AssertionError(f"no result for {name} upload {upload_id} within {timeout}s")
