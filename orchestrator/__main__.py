"""Entry point: `python -m orchestrator`."""

import logging
import os
import pathlib
import time

import redis

from .healthcheck import HEARTBEAT_FILE

STREAM = "orchestration:commands"
GROUP = "orchestrator"


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper())
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"), socket_timeout=10)
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    heartbeat = pathlib.Path(HEARTBEAT_FILE)
    while True:
        client.ping()
        heartbeat.touch()
        time.sleep(5)


if __name__ == "__main__":
    main()
