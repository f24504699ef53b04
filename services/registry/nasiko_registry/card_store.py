"""Agent cards kept per container, fetched in the background with retries.

Fetching a card never holds up routing: a new agent is routed at once and
its card follows as soon as the agent answers (it may still be starting).
"""

import asyncio
import logging
from dataclasses import dataclass

import httpx

from .cards import CardResult, fetch_card
from .discovery import Candidate
from .settings import RegistrySettings

log = logging.getLogger(__name__)

# Waits between attempts while the agent does not answer yet (~30 s in all).
RETRY_DELAYS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass
class CardState:
    result: CardResult | None = None
    task: asyncio.Task | None = None

    @property
    def pending(self) -> bool:
        fetching = self.task is not None and not self.task.done()
        return self.result is None or (fetching and not self.result.final)


class CardStore:
    def __init__(self, settings: RegistrySettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._states: dict[str, CardState] = {}

    def get(self, container_id: str) -> CardState | None:
        return self._states.get(container_id)

    def refresh(self, agents: list[Candidate], *, retry_failed: bool = False) -> None:
        """Start fetches for new containers; forget removed ones."""
        current = {agent.container_id: agent for agent in agents}
        for container_id in list(self._states):
            if container_id not in current:
                state = self._states.pop(container_id)
                if state.task:
                    state.task.cancel()
        for container_id, agent in current.items():
            state = self._states.setdefault(container_id, CardState())
            idle = state.task is None or state.task.done()
            failed = state.result is not None and state.result.status != "ok"
            if state.task is None or (retry_failed and idle and failed):
                state.task = asyncio.create_task(self._fetch(agent, state), name=f"card-{agent.name}")

    async def _fetch(self, agent: Candidate, state: CardState) -> None:
        base = f"http://{agent.address or agent.container_name}:{agent.labels.port}"
        for delay in RETRY_DELAYS:
            await asyncio.sleep(delay)
            try:
                state.result = await fetch_card(
                    self.http, base, name=agent.name, public_url=self.settings.gateway_public_url,
                    card_path=agent.labels.card_path, uploads_dir=self.settings.uploads_dir,
                )
            except Exception as exc:  # never let one agent's card break the registry
                state.result = CardResult("invalid", error=f"card fetch failed: {exc}")
            if state.result.final:
                break
        if state.result and state.result.status != "ok":
            log.warning("agent %s: %s", agent.name, state.result.error)

    async def close(self) -> None:
        tasks = [s.task for s in self._states.values() if s.task and not s.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
