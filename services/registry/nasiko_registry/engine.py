"""The registry's one loop: list agents, plan routes, write the file, push to Kong.

    Docker events ─┐
    periodic resync├─> trigger (latest wins) ─> sync(): list -> select -> validate
    POST /sync    ─┘                             -> snapshot + file -> publish wanted
                                            publisher: push latest config to Kong,
                                            drop agents Kong rejects, push again

Each sync rebuilds the whole state from a fresh container list; nothing is
patched incrementally. When listing fails, the previous state stays as it
is: an engine hiccup never empties the routes (the original registry did).
Syncs run at most once per REGISTRY_MIN_SYNC_INTERVAL_SECONDS; triggers that
arrive meanwhile collapse into one.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import docker
import httpx

from .card_store import CardStore
from .discovery import Candidate, list_containers, select_agents
from .events import Backoff, EventWatcher
from .files import write_atomic
from .kong_client import KongAdmin, PushResult
from .render import RouteTarget, config_hash, dump, render_config
from .settings import RegistrySettings
from .validate import plan_routes

log = logging.getLogger(__name__)

TRANSIENT = ("busy", "unavailable", "timeout", "unreachable", "error")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Snapshot:
    agents: list[Candidate] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    config_text: str = ""
    config_hash: str = ""
    file_written_at: str | None = None
    last_sync_at: str | None = None
    last_sync_ok: bool = False
    last_sync_reason: str = ""
    last_sync_error: str = ""
    kong: dict = field(default_factory=lambda: {"outcome": "not pushed yet"})


class Registry:
    def __init__(
        self, settings: RegistrySettings, *, docker_client: docker.DockerClient | None = None
    ) -> None:
        self.settings = settings
        self.snapshot = Snapshot()
        self.docker = docker_client
        self.http = httpx.AsyncClient(timeout=settings.card_timeout_seconds, trust_env=False)
        self.cards = CardStore(settings, self.http)
        self.kong: KongAdmin | None = None
        if settings.kong_admin_url:
            kong_http = httpx.AsyncClient(timeout=settings.kong_timeout_seconds, trust_env=False)
            self.kong = KongAdmin(settings.kong_admin_url, kong_http)
        self._kong_rejected: dict[str, str] = {}  # container id -> Kong's reason
        self._trigger = asyncio.Event()
        self._publish_wanted = asyncio.Event()
        self._reason = "startup"
        self._sync_lock = asyncio.Lock()
        self._publish_lock = asyncio.Lock()
        self._docker_backoff = Backoff()
        self._docker_retry_in: float | None = None  # set while Docker fails
        self._last_sync_mono = 0.0
        self._tasks: list[asyncio.Task] = []
        self._watcher: EventWatcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._sync_loop(), name="registry-sync"),
                       asyncio.create_task(self._publish_loop(), name="registry-publish")]
        self.request_sync("startup")

    async def stop(self) -> None:
        if self._watcher:
            await asyncio.to_thread(self._watcher.stop)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.cards.close()
        await self.http.aclose()
        if self.kong:
            await self.kong.http.aclose()
        if self.docker:
            self.docker.close()

    def request_sync(self, reason: str) -> None:
        """Ask for a sync; safe from any thread. Pending requests collapse."""
        def trigger() -> None:
            self._reason = reason
            self._trigger.set()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(trigger)

    # --- sync ----------------------------------------------------------------
    async def _sync_loop(self) -> None:
        while True:
            retrying = self._docker_retry_in is not None
            timeout = self._docker_retry_in if retrying else self.settings.registry_resync_seconds
            try:
                await asyncio.wait_for(self._trigger.wait(), timeout)
            except TimeoutError:
                self._reason = "retry after a Docker error" if retrying else "periodic resync"
            self._trigger.clear()
            wait = self._last_sync_mono + self.settings.registry_min_sync_interval_seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.sync(self._reason)

    def _list(self) -> list[dict]:
        if self.docker is None:
            self.docker = docker.from_env(version="auto")
        containers = list_containers(self.docker)
        if self._watcher is None:  # follow events once Docker has answered
            self._watcher = EventWatcher(self.docker, self.settings.agent_network, self.request_sync)
            self._watcher.start()
        return containers

    async def sync(self, reason: str = "requested") -> dict:
        """Re-list the agents and rebuild everything from that list."""
        async with self._sync_lock:
            self._last_sync_mono = time.monotonic()
            snap = self.snapshot
            snap.last_sync_at, snap.last_sync_reason = _now(), reason
            try:
                containers = await asyncio.to_thread(self._list)
            except Exception as exc:  # Docker down or refusing: keep the last state
                self._docker_retry_in = self._docker_backoff.next()
                snap.last_sync_ok = False
                snap.last_sync_error = (
                    f"cannot list containers from Docker: {exc}; keeping the last known agents"
                )
                log.error("sync failed (%s): %s (retry in %.1fs)", reason, snap.last_sync_error,
                          self._docker_retry_in)
                return self.sync_result()
            self._docker_retry_in = None
            self._docker_backoff.reset()

            selection = select_agents(containers, self.settings.agent_network)
            excluded = {s.container_name: s.reason for s in selection.skipped}
            candidates = []
            for agent in selection.agents:
                if agent.container_id in self._kong_rejected:
                    excluded[agent.name] = self._kong_rejected[agent.container_id]
                else:
                    candidates.append(agent)
            live_ids = {a.container_id for a in selection.agents}
            self._kong_rejected = {k: v for k, v in self._kong_rejected.items() if k in live_ids}
            plan = plan_routes([RouteTarget(a.name, a.container_name, a.labels.port) for a in candidates])
            excluded.update(plan.excluded)
            routed_names = {t.name for t in plan.routed}
            before = ([a.container_id for a in snap.agents], dict(snap.excluded))
            self._apply([a for a in candidates if a.name in routed_names], excluded)
            snap.last_sync_ok, snap.last_sync_error = True, ""
            self.cards.refresh(snap.agents, retry_failed=reason == "periodic resync")
            self._publish_wanted.set()
            changed = before != ([a.container_id for a in snap.agents], snap.excluded)
            log.log(logging.INFO if changed else logging.DEBUG, "sync (%s): routed %s; left out %s",
                    reason, [a.name for a in snap.agents] or "none", excluded or "none")
            return self.sync_result()

    def _apply(self, agents: list[Candidate], excluded: dict[str, str]) -> None:
        """Make `agents` the routed set: snapshot, then the file Kong loads."""
        snap = self.snapshot
        text = dump(render_config([RouteTarget(a.name, a.container_name, a.labels.port) for a in agents]))
        snap.agents, snap.excluded = agents, excluded
        if text != snap.config_text or snap.file_written_at is None:
            write_atomic(self.settings.kong_config_path, text)
            snap.config_text, snap.config_hash, snap.file_written_at = text, config_hash(text), _now()

    # --- publish -------------------------------------------------------------
    async def _publish_loop(self) -> None:
        backoff = Backoff(first=1.0, cap=self.settings.registry_resync_seconds)
        while True:
            await self._publish_wanted.wait()
            self._publish_wanted.clear()
            result = await self.publish()
            if result is None or result.outcome not in TRANSIENT:
                backoff.reset()
                continue
            try:  # Kong not there (yet): try again later, or sooner on a change
                await asyncio.wait_for(self._publish_wanted.wait(), backoff.next())
            except TimeoutError:
                self._publish_wanted.set()

    async def publish(self) -> PushResult | None:
        """Push the current config; drop agents Kong rejects and push again."""
        if self.kong is None:
            self.snapshot.kong = {"outcome": "disabled", "message": "KONG_ADMIN_URL is empty", "at": _now()}
            return None
        async with self._publish_lock:
            for _ in range(5):
                result = await self.kong.push(lambda: self.snapshot.config_text)
                if result.outcome == "invalid" and self._drop_rejected(result):
                    continue
                break
            changed = result.outcome != self.snapshot.kong.get("outcome")
            self.snapshot.kong = {"outcome": result.outcome, "status_code": result.status_code,
                                  "message": result.message, "at": _now(),
                                  "pushed_hash": config_hash(result.pushed_text)}
            # Say it once when the outcome changes, not on every retry.
            level = logging.INFO if result.ok else logging.WARNING
            log.log(level if changed else logging.DEBUG, "Kong push: %s (%s)", result.outcome, result.message)
            return result

    def _drop_rejected(self, result: PushResult) -> bool:
        by_name = {a.name: a for a in self.snapshot.agents}
        offenders = {name for name in result.offending_agents if name in by_name}
        if not offenders:
            return False
        excluded = dict(self.snapshot.excluded)
        for name in offenders:
            messages = "; ".join(m for e in result.entity_errors if e.agent == name for m in e.messages)
            reason = f"Kong rejected its entities: {messages}"
            self._kong_rejected[by_name[name].container_id] = reason
            excluded[name] = reason
        self._apply([a for a in self.snapshot.agents if a.name not in offenders], excluded)
        return True

    # --- reports -------------------------------------------------------------
    def sync_result(self) -> dict:
        snap = self.snapshot
        return {
            "at": snap.last_sync_at, "reason": snap.last_sync_reason, "ok": snap.last_sync_ok,
            "error": snap.last_sync_error or None, "agents": [a.name for a in snap.agents],
            "excluded": snap.excluded, "config_hash": snap.config_hash,
        }
