"""Where a deployment's progress goes: status hash, event stream, backend callback.

agent:status:{name}   hash, the latest state; written whole (DEL + HSET in one
                      MULTI) on every change, so a field of an older
                      deployment (say its `url`) can never linger
agent:events:{name}   stream (MAXLEN ~1000) of kind=stage|log|result entries;
                      kind=result is the last entry of a deployment
PUT {BACKEND_URL}/api/v1/upload-status/agent/{name}/latest
                      on every stage change; a failing callback is logged
                      and never fails the deployment
"""

import logging
import queue
import threading
import time
from datetime import UTC, datetime

import httpx
import redis

log = logging.getLogger(__name__)

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
METRICS_KEY = "orchestration:metrics"


def status_key(agent_name: str) -> str:
    return f"agent:status:{agent_name}"


def last_command_key(agent_name: str) -> str:
    """Stream id of the newest command that ran for the agent (stale ones are skipped)."""
    return f"agent:last-command:{agent_name}"


def events_key(agent_name: str) -> str:
    return f"agent:events:{agent_name}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BackendCallback:
    """Tells the backend about status changes, in order, from a background thread.

    Best effort by design: a slow or absent backend never slows or fails a
    deployment (the status hash and events are the source of truth); failures
    are logged. `flush()` waits until everything queued has been sent.
    """

    def __init__(self, backend_url: str, timeout: float = 3.0) -> None:
        self.backend_url = backend_url.rstrip("/")
        # One client for the worker's lifetime: building one per call (TLS
        # context, pool) would cost more than the call on a local network.
        self.http = httpx.Client(timeout=timeout)
        self._queue: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue(maxsize=10_000)
        self._sender: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def send(self, agent_name: str, payload: dict[str, str]) -> None:
        if not self.backend_url:
            return
        with self._start_lock:
            if self._sender is None:
                self._sender = threading.Thread(target=self._run, name="backend-callback", daemon=True)
                self._sender.start()
        try:
            self._queue.put_nowait((agent_name, payload))
        except queue.Full:
            log.warning("backend callback queue full; dropped the %s update for %s", payload["status"], agent_name)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued update was sent (or failed); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self.flush(timeout=3.0)
        self.http.close()

    def _run(self) -> None:
        while True:
            agent_name, payload = self._queue.get()
            try:
                self._put(agent_name, payload)
            finally:
                self._queue.task_done()

    def _put(self, agent_name: str, payload: dict[str, str]) -> None:
        url = f"{self.backend_url}/api/v1/upload-status/agent/{agent_name}/latest"
        try:
            response = self.http.put(url, json=payload)
            if response.status_code >= 400:
                log.warning("backend callback %s answered %s: %s", url, response.status_code, response.text[:200])
        except httpx.HTTPError as exc:
            log.warning("backend callback %s failed: %s", url, exc)


class DeploymentStatus:
    """The status record of one deployment of one agent."""

    def __init__(
        self, client: redis.Redis, agent_name: str, upload_id: str, callback: BackendCallback | None = None
    ) -> None:
        self.client = client
        self.agent_name = agent_name
        self.callback = callback
        self.fields = dict.fromkeys(STATUS_FIELDS, "")
        self.fields.update(agent_name=agent_name, upload_id=upload_id)

    def stage(self, status: str, stage: str, message: str, **extra: str) -> None:
        """Move to a new stage: hash, stage event, backend callback."""
        self._record("stage", status, stage, message, extra)

    def log(self, line: str) -> None:
        """One build-log line, as an event only (the hash keeps the stage)."""
        self._event("log", line)

    def result(self, status: str, message: str, **extra: str) -> None:
        """The outcome (running or failed): the last event of this deployment."""
        self._record("result", status, "done" if status == "running" else "failed", message, extra)

    def gone(self, recorded: dict[str, str], message: str) -> None:
        """The agent's container disappeared: keep the recorded fields, mark it failed."""
        self.fields.update({k: recorded.get(k, "") for k in STATUS_FIELDS if k not in ("status", "stage", "message")})
        self._record("result", "failed", "gone", message, {})

    def superseded(self, message: str) -> None:
        """Close this command's event trail without touching the newer deployment's status hash."""
        self.fields.update(status="failed", stage="superseded")
        self._event("result", message)

    def _record(self, kind: str, status: str, stage: str, message: str, extra: dict[str, str]) -> None:
        self.fields.update(status=status, stage=stage, message=message, last_updated=now_iso(), **extra)
        key = status_key(self.agent_name)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=self.fields)
            self._event(kind, message, pipe)
            pipe.execute()
        if self.callback is not None:
            self.callback.send(
                self.agent_name,
                {
                    name: self.fields[name]
                    for name in ("status", "stage", "message", "url", "image", "container_id", "upload_id")
                },
            )

    def _event(self, kind: str, message: str, pipe: redis.client.Pipeline | None = None) -> None:
        (pipe or self.client).xadd(
            events_key(self.agent_name),
            {
                "upload_id": self.fields["upload_id"],
                "kind": kind,
                "status": self.fields["status"],
                "stage": self.fields["stage"],
                "message": message,
                "timestamp": now_iso(),
            },
            maxlen=EVENTS_MAXLEN,
            approximate=True,
        )


def count(client: redis.Redis, metric: str) -> None:
    """Bump a worker counter (builds, cache_hits, ...) in `orchestration:metrics`."""
    client.hincrby(METRICS_KEY, metric, 1)
