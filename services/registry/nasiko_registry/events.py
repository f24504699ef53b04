"""Docker events that may change the set of routed agents, as sync triggers.

A watcher thread follows `GET /events` and calls `on_change()` for:
  - container start, die, destroy, pause, unpause, health_status of containers
    carrying the `nasiko.agent` label;
  - connect/disconnect on the agent network.
Events carry no state we use: each one only triggers a full re-list
(level-triggered, like Traefik's Docker provider), so a lost or duplicated
event is harmless. The stream is reopened with exponential backoff after a
Docker error, and every (re)connect triggers a resync, since events may have
been missed while disconnected.
"""

import contextlib
import logging
import threading
from collections.abc import Callable

import docker

from .labels import AGENT

log = logging.getLogger(__name__)

CONTAINER_ACTIONS = {"start", "die", "destroy", "pause", "unpause", "health_status"}
NETWORK_ACTIONS = {"connect", "disconnect"}


def is_relevant(event: dict, network: str) -> bool:
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    # `health_status: healthy` -> `health_status`
    action = (event.get("Action") or event.get("status") or "").split(":", 1)[0]
    if event.get("Type") == "container":
        return action in CONTAINER_ACTIONS and AGENT in attributes
    if event.get("Type") == "network":
        return action in NETWORK_ACTIONS and attributes.get("name") == network
    return False


class Backoff:
    """0.5 s, 1 s, 2 s ... capped; reset after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first, self.cap, self.current = first, cap, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.first


class EventWatcher:
    def __init__(self, client: docker.DockerClient, network: str, on_change: Callable[[str], None]) -> None:
        self.client = client
        self.network = network
        self.on_change = on_change
        self._stop = threading.Event()
        self._stream = None
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            # Unblocks the thread waiting on the stream; a broken stream may
            # fail to close in any way.
            with contextlib.suppress(Exception):
                stream.close()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                self._stream = self.client.events(
                    decode=True,
                    filters={"type": ["container", "network"],
                             "event": sorted(CONTAINER_ACTIONS | NETWORK_ACTIONS)},
                )
                if self._stop.is_set():  # stop() ran while we were connecting
                    self._stream.close()
                    return
                self.on_change("events connected")
                backoff.reset()
                for event in self._stream:
                    if self._stop.is_set():
                        return
                    if is_relevant(event, self.network):
                        self.on_change(f"docker event {event.get('Action')}")
            except Exception as exc:  # Docker down, socket closed, bad chunk
                if self._stop.is_set():
                    return
                delay = backoff.next()
                log.warning("Docker event stream failed (%s): reconnecting in %.1fs", exc, delay)
                self._stop.wait(delay)
            else:
                if not self._stop.is_set():
                    self._stop.wait(backoff.next())
