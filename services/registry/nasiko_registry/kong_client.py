"""Pushing the declarative config to Kong's admin API (DB-less `POST /config`).

    kong = KongAdmin("http://kong:8001", http)
    result = await kong.push(lambda: current_config_text())

Answers of `POST /config?check_hash=1&flatten_errors=1` and what we do:

    201 applied             -> ok
    304 unchanged           -> ok (Kong already runs this exact config)
    429 busy                -> wait Retry-After, push the *latest* config again
    400 invalid             -> return the per-entity errors (flattened), so the
                               caller drops the offending agents and pushes again
    413 too large           -> reported (raise lmdb_map_size), not retried
    503 exiting/504 timeout -> retried a few times, then reported
    no answer               -> "unreachable": Kong is optional, the caller
                               reports the registry as degraded
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from .render import agent_of

log = logging.getLogger(__name__)

OK_OUTCOMES = ("applied", "unchanged")


@dataclass(frozen=True)
class EntityError:
    """One entry of Kong's `flattened_errors`."""

    entity_type: str
    entity_name: str | None
    agent: str | None  # from the entity's nasiko-agent tag, when it has one
    messages: list[str]


@dataclass
class PushResult:
    outcome: str  # applied|unchanged|invalid|busy|too_large|unavailable|timeout|unreachable|error
    status_code: int | None = None
    message: str = ""
    entity_errors: list[EntityError] = field(default_factory=list)
    pushed_text: str = ""
    retry_after: float = 0.0  # seconds Kong asked us to wait (429)

    @property
    def ok(self) -> bool:
        return self.outcome in OK_OUTCOMES

    @property
    def offending_agents(self) -> set[str]:
        return {e.agent for e in self.entity_errors if e.agent}


def parse_flattened_errors(body: dict) -> list[EntityError]:
    errors = []
    for item in body.get("flattened_errors") or []:
        entity = item.get("entity") or {}
        tags = item.get("entity_tags") or entity.get("tags")
        messages = [
            f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
            for e in item.get("errors") or []
        ]
        errors.append(
            EntityError(
                entity_type=item.get("entity_type", "?"),
                entity_name=item.get("entity_name"),
                agent=agent_of(tags),
                messages=messages,
            )
        )
    return errors


def _retry_after(response: httpx.Response, default: float, cap: float) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", default)), 0.0), cap)
    except ValueError:
        return default


class KongAdmin:
    def __init__(
        self,
        admin_url: str,
        http: httpx.AsyncClient,
        *,
        max_attempts: int = 4,
        max_wait: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.admin_url = admin_url.rstrip("/")
        self.http = http
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.sleep = sleep

    async def push(self, latest_config: Callable[[], str]) -> PushResult:
        """Push `latest_config()`; re-read it before every retry."""
        result = PushResult("error", message="not attempted")
        for attempt in range(1, self.max_attempts + 1):
            text = latest_config()
            result = await self._post(text)
            result.pushed_text = text
            if result.outcome == "busy":
                wait = result.retry_after
            elif result.outcome in ("unavailable", "timeout"):
                wait = min(0.5 * 2 ** (attempt - 1), self.max_wait)
            else:
                return result
            if attempt < self.max_attempts:
                log.info("Kong answered %s (%s): retrying in %.1fs", result.status_code, result.outcome, wait)
                await self.sleep(wait)
        result.message += f" (gave up after {self.max_attempts} attempts)"
        return result

    async def _post(self, text: str) -> PushResult:
        url = f"{self.admin_url}/config"
        try:
            response = await self.http.post(
                url, params={"check_hash": "1", "flatten_errors": "1"}, json={"config": text}
            )
        except httpx.HTTPError as exc:
            message = f"Kong admin API at {self.admin_url} did not answer: {exc}"
            return PushResult("unreachable", message=message)
        code = response.status_code
        if code == 201:
            return PushResult("applied", code, "Kong applied the new config")
        if code == 304:
            return PushResult("unchanged", code, "Kong already runs this config")
        body = _json(response)
        message = str(body.get("message") or body.get("error") or response.text[:300])
        if code == 429:
            return PushResult("busy", code, f"Kong is busy loading a config: {message}",
                              retry_after=_retry_after(response, 1.0, self.max_wait))
        if code == 400:
            return PushResult("invalid", code, f"Kong rejected the config: {message}",
                              entity_errors=parse_flattened_errors(body))
        if code == 413:
            return PushResult("too_large", code, f"config too large for Kong: {message} "
                              "(raise KONG_LMDB_MAP_SIZE)")
        if code == 503:
            return PushResult("unavailable", code, f"Kong is unavailable: {message}")
        if code == 504:
            return PushResult("timeout", code, f"Kong timed out loading the config: {message}")
        return PushResult("error", code, f"unexpected answer {code} from Kong: {message}")

    async def probe(self) -> dict:
        """Kong's `GET /status` (raises when Kong does not answer)."""
        response = await self.http.get(f"{self.admin_url}/status")
        response.raise_for_status()
        body = _json(response)
        return {"configuration_hash": body.get("configuration_hash")}


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
