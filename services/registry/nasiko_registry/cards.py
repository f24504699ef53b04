"""Agent cards: fetched from the running agent, with their URLs pointed at Kong.

Sources, first valid one wins:
  1. GET http://<agent>:<port>/.well-known/agent-card.json   (A2A SDKs >= 0.3)
  2. GET http://<agent>:<port>/.well-known/agent.json        (older SDKs)
  3. the agent folder's AgentCard.json, when the container's `nasiko.card-path`
     label names one inside the uploads volume.

An agent card announces where to reach the agent. Inside a container that is
`http://localhost:5000/` or whatever the author typed; neither works for a
caller. Every URL in the card is rewritten onto the gateway
(`{GATEWAY_PUBLIC_URL}/{name}/` plus the original path), so no container
address leaks out. A missing or invalid card marks the agent degraded, never
the registry.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

WELL_KNOWN = ("/.well-known/agent-card.json", "/.well-known/agent.json")
# Card fields that hold lists of {url, transport} across A2A versions.
INTERFACE_FIELDS = ("additionalInterfaces", "supportedInterfaces", "additional_interfaces",
                    "supported_interfaces")


@dataclass(frozen=True)
class CardResult:
    status: str  # ok | invalid | missing | unreachable
    card: dict | None = None
    source: str = ""
    error: str = ""

    @property
    def final(self) -> bool:
        """False when the agent did not answer yet (worth retrying soon)."""
        return self.status != "unreachable"


def card_problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return "the card is not a JSON object"
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        return "the card has no 'name'"
    if "url" in data and not isinstance(data["url"], str):
        return "the card's 'url' is not a string"
    if "skills" in data and not isinstance(data["skills"], list):
        return "the card's 'skills' is not a list"
    return None


def gateway_url(public_url: str, name: str) -> str:
    return f"{public_url.rstrip('/')}/{name}/"


def _onto_gateway(url: str, base: str) -> str:
    return base + urlsplit(url).path.lstrip("/")


def rewrite_urls(card: dict, base: str) -> dict:
    """A copy of `card` whose URLs all point below `base` (the gateway URL)."""
    card = json.loads(json.dumps(card))
    card["url"] = _onto_gateway(card["url"], base) if isinstance(card.get("url"), str) else base
    for field in INTERFACE_FIELDS:
        for interface in card.get(field) or []:
            if isinstance(interface, dict) and isinstance(interface.get("url"), str):
                interface["url"] = _onto_gateway(interface["url"], base)
    return card


def _read_card_file(card_path: str, uploads_dir: Path) -> tuple[object | None, str]:
    path = Path(card_path)
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(uploads_dir.resolve()):
            return None, f"{card_path} is outside {uploads_dir}: refused"
        return json.loads(resolved.read_text()), ""
    except (OSError, ValueError) as exc:
        return None, f"{card_path}: {exc}"


async def fetch_card(
    http: httpx.AsyncClient,
    agent_base: str,
    *,
    name: str,
    public_url: str,
    card_path: str = "",
    uploads_dir: Path = Path("/data/uploads"),
) -> CardResult:
    """Fetch, check and rewrite one agent's card (see the module doc)."""
    base = gateway_url(public_url, name)
    invalid: CardResult | None = None
    unreachable = ""
    for path in WELL_KNOWN:
        url = agent_base.rstrip("/") + path
        try:
            response = await http.get(url)
        except httpx.HTTPError as exc:
            unreachable = f"{url}: {exc or type(exc).__name__}"
            break  # the agent is not answering yet: no point trying the next path
        if response.status_code == 404:
            continue
        if response.status_code != 200:
            error = f"{url} answered {response.status_code}"
            invalid = invalid or CardResult("invalid", source=url, error=error)
            continue
        try:
            data = response.json()
        except ValueError:
            invalid = invalid or CardResult("invalid", source=url, error=f"{url} did not return JSON")
            continue
        problem = card_problem(data)
        if problem:
            invalid = invalid or CardResult("invalid", source=url, error=f"{url}: {problem}")
            continue
        return CardResult("ok", rewrite_urls(data, base), url)

    if card_path:
        data, error = _read_card_file(card_path, uploads_dir)
        problem = error or card_problem(data)
        if not problem:
            return CardResult("ok", rewrite_urls(data, base), card_path)  # type: ignore[arg-type]
        invalid = invalid or CardResult("invalid", source=card_path, error=problem)
    if invalid:
        return invalid
    if unreachable:
        return CardResult("unreachable", error=unreachable)
    return CardResult("missing", error=f"no card at {agent_base}{WELL_KNOWN[0]} nor {WELL_KNOWN[1]}")
