"""Reliable consumption of `orchestration:commands` by the group `orchestrator`.

Message flow::

    XADD by the backend
        |
        v
    XREADGROUP ">" ----> handler(id, fields) --ok--> XACK           (outcome recorded first)
        ^                     |
        |                  raises
        |                     v
        |           deliveries < N: left pending ---- reclaimed after WORKER_CLAIM_IDLE_SECONDS
        |           deliveries = N, or PoisonMessage: XADD orchestration:dead-letter + XACK (one MULTI)
        |
    at start:  1. XREADGROUP "0"      own pending entries (this consumer died mid-job)
               2. XAUTOCLAIM loop     entries of dead consumers, until the cursor is 0-0;
                                      ids deleted from the stream are acked and dropped

A live worker refreshes the idle time of its in-flight entries (XCLAIM JUSTID,
which does not count as a delivery), so a long build is never reclaimed by
another worker while it runs. Jobs run on daemon threads (at most
WORKER_CONCURRENCY entries in hand at once), one runner thread per key (agent
name): two commands for the same agent never race and run in stream order,
while different agents build side by side. If the stream is deleted under
the worker (NOGROUP), the group is recreated at id 0 and work goes on.
"""

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

log = logging.getLogger(__name__)

STREAM = "orchestration:commands"
GROUP = "orchestrator"
DEAD_LETTER_STREAM = "orchestration:dead-letter"

Entry = tuple[str, dict[str, str]]


class PoisonMessage(Exception):
    """The message can never succeed (malformed, unknown command): dead-letter it at once."""


@dataclass
class ConsumerConfig:
    stream: str = STREAM
    group: str = GROUP
    consumer: str = ""
    dead_letter_stream: str = DEAD_LETTER_STREAM
    max_deliveries: int = 3
    claim_idle_seconds: float = 60.0
    block_ms: int = 2000
    concurrency: int = 2
    shutdown_grace_seconds: float = 8.0

    def __post_init__(self) -> None:
        self.consumer = self.consumer or socket.gethostname()


class StreamConsumer:
    def __init__(
        self,
        client: redis.Redis,
        handler: Callable[[str, dict[str, str]], None],
        config: ConsumerConfig,
        *,
        key_of: Callable[[dict[str, str]], str] = lambda fields: fields.get("agent_name", ""),
        on_dead_letter: Callable[[dict[str, str], str], None] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.redis = client
        self.handler = handler
        self.config = config
        self.key_of = key_of
        self.on_dead_letter = on_dead_letter
        self.heartbeat = heartbeat or (lambda: None)
        # entry id -> key, for every entry running or waiting behind its key
        self._inflight: dict[str, str] = {}
        # entries in hand but not dispatched yet (no free slot): claimed, so
        # kept alive and never claimed a second time
        self._backlog: deque[Entry] = deque()
        # key -> entries waiting, in stream order; a key is present while its runner thread lives
        self._queues: dict[str, deque[Entry]] = {}
        self._runners: dict[str, threading.Thread] = {}
        self._inflight_lock = threading.Lock()
        self._slot_freed = threading.Event()

    # --- group and recovery ------------------------------------------------------
    def ensure_group(self) -> None:
        """Create the group at id 0 (and the stream); an existing group is fine."""
        try:
            self.redis.xgroup_create(self.config.stream, self.config.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def recover(self) -> list[Entry]:
        """Own pending entries first, then idle entries of dead consumers (not our own twice)."""
        own = self._own_pending()
        ids = {entry_id for entry_id, _ in own}
        return own + [entry for entry in self.reclaim_idle() if entry[0] not in ids]

    def _own_pending(self) -> list[Entry]:
        entries: list[Entry] = []
        last_id = "0"
        while True:
            reply = self.redis.xreadgroup(
                self.config.group, self.config.consumer, {self.config.stream: last_id}, count=100
            )
            batch = reply[0][1] if reply else []
            if not batch:
                return entries
            for entry_id, fields in batch:
                if fields:
                    entries.append((entry_id, fields))
                else:  # deleted from the stream while pending: nothing left to do
                    self._ack(entry_id)
            last_id = batch[-1][0]

    def reclaim_idle(self) -> list[Entry]:
        """XAUTOCLAIM until the cursor wraps to 0-0; deleted ids are acked and dropped."""
        entries: list[Entry] = []
        cursor = "0-0"
        min_idle = int(self.config.claim_idle_seconds * 1000)
        while True:
            reply = self.redis.xautoclaim(
                self.config.stream,
                self.config.group,
                self.config.consumer,
                min_idle_time=min_idle,
                start_id=cursor,
                count=100,
            )
            cursor, claimed = reply[0], reply[1]
            deleted = reply[2] if len(reply) > 2 else []
            entries.extend((entry_id, fields) for entry_id, fields in claimed if fields)
            for entry_id in deleted + [entry_id for entry_id, fields in claimed if not fields]:
                self._ack(entry_id)
            if cursor in ("0-0", b"0-0"):
                in_hand = self._in_hand()
                return [entry for entry in entries if entry[0] not in in_hand]

    def _in_hand(self) -> set[str]:
        with self._inflight_lock:
            return set(self._inflight) | {entry_id for entry_id, _ in self._backlog}

    # --- main loop ---------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then give in-flight jobs a short grace."""
        self._retry_until_ready(stop, self.ensure_group)
        backlog = self._backlog
        self._retry_until_ready(stop, lambda: backlog.extend(self.recover()))
        last_claim = last_keepalive = time.monotonic()
        while not stop.is_set():
            try:
                self.heartbeat()
                now = time.monotonic()
                if now - last_keepalive >= self.config.claim_idle_seconds / 3:
                    self._keep_alive()
                    last_keepalive = now
                if now - last_claim >= self.config.claim_idle_seconds / 2:
                    backlog.extend(self.reclaim_idle())
                    last_claim = now
                free = self.config.concurrency - len(self._inflight)
                while free > 0 and backlog:
                    self._dispatch(*backlog.popleft())
                    free -= 1
                if free <= 0:
                    self._slot_freed.wait(self.config.block_ms / 1000)
                    self._slot_freed.clear()
                    continue
                for entry in self._read_new(free):
                    self._dispatch(*entry)
            except redis.ResponseError as exc:
                if _stream_gone(exc):
                    log.warning(
                        "stream %s or group %s is gone (%s): recreating the group at 0",
                        self.config.stream,
                        self.config.group,
                        exc,
                    )
                    exc = None
                    try:
                        self.ensure_group()
                    except redis.ResponseError as failed:
                        exc = failed
                if exc is not None:
                    # e.g. WRONGTYPE: the key is not a stream. Crashing would
                    # only restart into the same error; stay up and say why.
                    self._log_unreadable(exc)
                    stop.wait(5.0)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("Redis unreachable (%s); retrying", exc)
                stop.wait(1.0)
        self._drain()

    def _read_new(self, count: int) -> list[Entry]:
        reply = self.redis.xreadgroup(
            self.config.group,
            self.config.consumer,
            {self.config.stream: ">"},
            count=count,
            block=self.config.block_ms,
        )
        return [(entry_id, fields) for entry_id, fields in (reply[0][1] if reply else [])]

    def _retry_until_ready(self, stop: threading.Event, step: Callable[[], None]) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                step()
                return
            except redis.ConnectionError as exc:
                log.warning("Redis not reachable yet (%s); retrying in %.1fs", exc, delay)
            except redis.ResponseError as exc:  # BUSYGROUP never gets here: ensure_group accepts it
                self._log_unreadable(exc)
            stop.wait(delay)
            delay = min(delay * 2, 10.0)

    def _log_unreadable(self, exc: redis.ResponseError) -> None:
        log.error("cannot use stream %s: %s; fix the key in Redis (e.g. DEL %s); retrying",
                  self.config.stream, exc, self.config.stream)

    def _keep_alive(self) -> None:
        ids = sorted(self._in_hand())
        if ids:
            self.redis.xclaim(
                self.config.stream,
                self.config.group,
                self.config.consumer,
                min_idle_time=0,
                message_ids=ids,
                justid=True,
            )

    def _drain(self) -> None:
        deadline = time.monotonic() + self.config.shutdown_grace_seconds
        for thread in list(self._runners.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._inflight:
            log.warning(
                "stopping with %d job(s) unfinished; they stay pending and are resumed at restart",
                len(self._inflight),
            )

    # --- one entry ---------------------------------------------------------------
    def _dispatch(self, entry_id: str, fields: dict[str, str]) -> None:
        """Run the entry on its key's runner thread: one key's entries run in stream order."""
        key = self.key_of(fields)
        with self._inflight_lock:
            if entry_id in self._inflight:
                return
            self._inflight[entry_id] = key
            if key in self._queues:  # a runner for this key is alive and will get to it
                self._queues[key].append((entry_id, fields))
                return
            self._queues[key] = deque([(entry_id, fields)])
            runner = threading.Thread(target=self._run_key, args=(key,), daemon=True, name=f"agent-{key}")
            self._runners[key] = runner
        runner.start()

    def _run_key(self, key: str) -> None:
        while True:
            with self._inflight_lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._runners.pop(key, None)
                    return
                entry_id, fields = queue.popleft()
            self.process(entry_id, fields)

    def process(self, entry_id: str, fields: dict[str, str]) -> None:
        """Handle one entry; ack on success, dead-letter when out of tries."""
        try:
            deliveries = self._deliveries(entry_id)
            if deliveries == 0:
                log.info("entry %s is no longer ours (acknowledged or claimed by another worker): skipped", entry_id)
                return
            if deliveries > self.config.max_deliveries:
                # Only reachable when workers died while handling it, N times over.
                self.dead_letter(
                    entry_id,
                    fields,
                    f"delivered {deliveries} times without an outcome (the worker stopped while handling it each time)",
                    deliveries,
                )
                return
            try:
                self.handler(entry_id, fields)
            except Exception as exc:
                self._failed(entry_id, fields, deliveries, exc)
                return
            self._ack(entry_id)
        except redis.RedisError as exc:
            log.warning("entry %s: Redis error (%s); it stays pending and will be retried", entry_id, exc)
        finally:
            with self._inflight_lock:
                self._inflight.pop(entry_id, None)
            self._slot_freed.set()

    def _failed(self, entry_id: str, fields: dict[str, str], deliveries: int, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, PoisonMessage) or deliveries >= self.config.max_deliveries:
            log.error("entry %s failed for good after %d delivery(ies): %s", entry_id, deliveries, error)
            self.dead_letter(entry_id, fields, error, deliveries)
        else:
            log.warning(
                "entry %s failed (delivery %d of %d), will be retried: %s",
                entry_id,
                deliveries,
                self.config.max_deliveries,
                error,
                exc_info=exc,
            )

    def dead_letter(self, entry_id: str, fields: dict[str, str], error: str, deliveries: int) -> None:
        """Move the entry to the dead-letter stream and ack it, atomically."""
        record = {
            **fields,
            "error": error,
            "deliveries": str(deliveries),
            "original_id": entry_id,
            "failed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.config.dead_letter_stream, record)
            pipe.xack(self.config.stream, self.config.group, entry_id)
            pipe.execute()
        if self.on_dead_letter is not None:
            try:
                self.on_dead_letter(fields, error)
            except Exception:  # recording is best effort; the dead letter itself is safe
                log.exception("could not record the dead-lettered outcome of %s", entry_id)

    def _deliveries(self, entry_id: str) -> int:
        """How often the entry was delivered; 0 when it is not pending on this consumer."""
        pending = self.redis.xpending_range(
            self.config.stream, self.config.group, min=entry_id, max=entry_id, count=1,
            consumername=self.config.consumer,
        )
        return int(pending[0]["times_delivered"]) if pending else 0

    def _ack(self, entry_id: str) -> None:
        self.redis.xack(self.config.stream, self.config.group, entry_id)


def _stream_gone(exc: redis.ResponseError) -> bool:
    text = str(exc)
    return "NOGROUP" in text or "no longer exists" in text
