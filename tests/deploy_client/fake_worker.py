"""A scripted stand-in for the worker: reads orchestration:commands from the
real Redis and answers with the events the real worker writes (DESIGN.md),
so the deploy client is tested against the real backend over real HTTP.

    with FakeWorker(redis_url, outcome="failed") as worker:
        ...
    worker.commands   # the command fields it received
    worker.sources    # {upload_id: sorted relative paths found at agent_path}
"""

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import redis


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FakeWorker:
    def __init__(
        self, redis_url: str, outcome: str = "running", log_lines: int = 3, remove_result_event: bool = True
    ) -> None:
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)
        self.outcome = outcome
        self.log_lines = log_lines
        self.remove_result_event = remove_result_event
        self.commands: list[dict] = []
        self.sources: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "FakeWorker":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.redis.close()

    def _run(self) -> None:
        last = "0"
        while not self._stop.is_set():
            for _, entries in self.redis.xread({"orchestration:commands": last}, block=100) or []:
                for entry_id, fields in entries:
                    last = entry_id
                    self.commands.append(fields)
                    self._handle(fields)

    def _event(self, fields: dict, kind: str, status: str, stage: str, message: str) -> None:
        self.redis.xadd(
            f"agent:events:{fields['agent_name']}",
            {
                "upload_id": fields["upload_id"],
                "kind": kind,
                "status": status,
                "stage": stage,
                "message": message,
                "timestamp": _now(),
            },
        )

    def _handle(self, fields: dict) -> None:
        name = fields["agent_name"]
        if fields["command"] == "remove_agent":
            self.redis.delete(f"agent:status:{name}")
            if self.remove_result_event:
                self._event(fields, "result", "removed", "removed", f"{name} removed")
            return
        root = Path(fields["agent_path"])
        self.sources[fields["upload_id"]] = sorted(
            str(Path(folder, f).relative_to(root)) for folder, _, files in os.walk(root) for f in files
        )
        self._event(fields, "stage", "building", "build", "building image")
        for number in range(1, self.log_lines + 1):
            self._event(fields, "log", "building", "build", f"Step {number}/{self.log_lines}")
        if self.outcome == "running":
            url, image = f"http://localhost:9100/{name}/", f"nasiko-agent/{name}:abc123"
            self.redis.hset(f"agent:status:{name}", mapping={"status": "running", "url": url, "image": image})
            self._event(fields, "result", "running", "ready", f"{name} is ready")
        else:
            self._event(fields, "result", "failed", "build", "build failed: pip install exited with 1")
