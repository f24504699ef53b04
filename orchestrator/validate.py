"""Checks an agent folder before anything is built, with errors that say what to fix.

Name policy (one mapping, applied the same way by every caller):

    folder name   ->  agent name
    WeatherAgent  ->  weatheragent      lowercase
    weather.agent ->  weather-agent     every run of `.`, `_`, space or `-` becomes one `-`
    agent___x     ->  agent-x
    my agent      ->  my-agent
    _private      ->  private           leading/trailing `-` are stripped
    agent-        ->  agent
    a             ->  refused           Docker container names need at least 2 characters

A name is refused when nothing valid is left (e.g. `___`), when it is shorter
than 2 (a container name needs two) or longer than 63 characters, when other characters remain (e.g. `café`), or when it
names a service of the stack (`redis`, `kong`, ...). The worker itself accepts
only names that are already valid (`check_agent_name`); clients map folder
names with `agent_name_for_folder` and show the user the result.
"""

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import yaml

# libyaml's safe loader when PyYAML was built with it (several times faster;
# parsing is on the cached-redeploy path), else the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_LABEL_LENGTH = 63
# A DNS label of at least 2 characters: the engine refuses one-character container names.
MIN_NAME_LENGTH = 2
DNS_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")
SEPARATOR_RUNS = re.compile(r"[._\s-]+")

RESERVED_NAMES = frozenset(
    {
        "kong",
        "nasiko-backend",
        "nasiko-web",
        "kong-service-registry",
        "nasiko-router",
        "nasiko-auth",
        "chat-history",
        "langtrace",
        "langtrace-postgres",
        "langtrace-clickhouse",
        "mongodb",
        "redis",
        "nasiko-worker",
    }
)

# Required members of an A2A AgentCard (A2A specification, AgentCard object).
# defaultInputModes/defaultOutputModes are required by the spec too, but the
# existing Nasiko agents' cards often omit them, so their absence only warns.
# A compose file expands to at most this many values: YAML aliases can make a
# few hundred bytes expand to gigabytes ("billion laughs").
MAX_COMPOSE_BYTES = 256 * 1024
MAX_COMPOSE_NODES = 20_000


def _refuse_alias_bombs(document: object, path: Path) -> None:
    budget = MAX_COMPOSE_NODES
    stack = [document]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise InvalidAgent(f"{path} expands to more than {MAX_COMPOSE_NODES} values (YAML aliases?): "
                               "write it out plainly")
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# The gateway's platform routes: an agent at /NAME must not shadow them.
GATEWAY_PATHS = frozenset({"api", "router", "auth", "app", "status"})

REQUIRED_CARD_FIELDS = ("name", "description", "url", "version", "capabilities", "skills")


class InvalidAgent(ValueError):
    """The agent folder cannot be deployed; the message says what to change."""


def agent_name_for_folder(folder_name: str) -> str:
    """Map a folder name to its agent name (see the module docstring), or raise."""
    name = SEPARATOR_RUNS.sub("-", folder_name.strip().lower()).strip("-")
    if not name:
        raise InvalidAgent(
            f"folder name {folder_name!r} has no letters or digits: rename the folder "
            "to a DNS label such as 'weather-agent'"
        )
    check_agent_name(name, original=folder_name)
    return name


def check_agent_name(name: str, *, original: str | None = None) -> str:
    """Return `name` if it is a valid, unreserved DNS label; raise otherwise."""
    shown = f"{original!r} (as {name!r})" if original and original != name else repr(name)
    if len(name) > MAX_LABEL_LENGTH:
        raise InvalidAgent(
            f"agent name {shown} is {len(name)} characters long; a DNS label has at most "
            f"{MAX_LABEL_LENGTH}: shorten the folder name"
        )
    if len(name) < MIN_NAME_LENGTH:
        raise InvalidAgent(
            f"agent name {shown} is {len(name)} character(s) long; the Docker engine needs at least "
            f"{MIN_NAME_LENGTH} for a container name: use a longer name"
        )
    if not DNS_LABEL.match(name):
        suggested = SEPARATOR_RUNS.sub("-", name.lower()).strip("-")
        hint = f" (e.g. {suggested!r})" if DNS_LABEL.match(suggested) else ""
        raise InvalidAgent(
            f"agent name {shown} is not a valid DNS label: use only lowercase letters, digits "
            f"and '-', starting and ending with a letter or digit{hint}"
        )
    if name in RESERVED_NAMES:
        raise InvalidAgent(
            f"agent name {shown} is the name of a stack service: rename the folder "
            f"(reserved: {', '.join(sorted(RESERVED_NAMES))})"
        )
    if name in GATEWAY_PATHS:
        raise InvalidAgent(
            f"agent name {shown} is a platform route of the gateway (/{name}): rename the folder "
            f"(taken: {', '.join(sorted(GATEWAY_PATHS))})"
        )
    return name


def name_collisions(folder_names: Iterable[str]) -> dict[str, list[str]]:
    """Agent names claimed by more than one folder: {agent name: [folders]}.

    Folders whose names cannot be mapped at all are left out (they fail on
    their own with a clearer message).
    """
    claims: dict[str, list[str]] = defaultdict(list)
    for folder in folder_names:
        try:
            claims[agent_name_for_folder(folder)].append(folder)
        except InvalidAgent:
            continue
    return {name: sorted(folders) for name, folders in claims.items() if len(folders) > 1}


def validate_agent_folder(folder: Path, agent_name: str) -> dict:
    """Check the folder for `agent_name`; return its parsed compose file ({} if none)."""
    check_agent_name(agent_name)
    if not folder.is_dir():
        raise InvalidAgent(f"agent folder {folder} does not exist or is not a directory")
    if not (folder / "Dockerfile").is_file():
        raise InvalidAgent(f"{folder} has no Dockerfile: add one that starts the agent on port 5000")
    _check_card(folder / "AgentCard.json")
    return _load_compose(folder, agent_name)


def _check_card(path: Path) -> None:
    if not path.is_file():
        raise InvalidAgent(f"{path.parent} has no AgentCard.json: add the agent's A2A card")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidAgent(f"{path} is not valid JSON ({exc}): fix the syntax") from exc
    except RecursionError:
        raise InvalidAgent(f"{path} is nested too deeply to be an AgentCard: write the card out plainly") from None
    if not isinstance(card, dict):
        raise InvalidAgent(f"{path} must hold a JSON object (an A2A AgentCard)")
    missing = [field for field in REQUIRED_CARD_FIELDS if field not in card]
    if missing:
        raise InvalidAgent(f"{path} lacks required AgentCard fields: {', '.join(missing)}")
    if not isinstance(card["skills"], list):
        raise InvalidAgent(f"{path}: 'skills' must be a list of skill objects")
    if not isinstance(card["capabilities"], dict):
        raise InvalidAgent(f"{path}: 'capabilities' must be an object (e.g. {{\"streaming\": false}})")


def _load_compose(folder: Path, agent_name: str) -> dict:
    path = next((folder / n for n in ("docker-compose.yml", "docker-compose.yaml") if (folder / n).is_file()), None)
    if path is None:
        return {}
    if path.stat().st_size > MAX_COMPOSE_BYTES:
        raise InvalidAgent(f"{path} is larger than {MAX_COMPOSE_BYTES // 1024} KiB: an agent's compose file is small")
    try:
        compose = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise InvalidAgent(f"{path} is not valid YAML: {exc}") from exc
    _refuse_alias_bombs(compose, path)
    services = compose.get("services") if isinstance(compose, dict) else None
    if not isinstance(services, dict) or not services:
        raise InvalidAgent(f"{path} has no 'services' mapping: declare a service named {agent_name!r}")
    if agent_name not in services:
        raise InvalidAgent(
            f"{path} has no service {agent_name!r} (found: {', '.join(map(str, services))}): "
            "the service key must equal the agent name"
        )
    service = services[agent_name] or {}
    if not isinstance(service, dict):
        raise InvalidAgent(f"{path}: service {agent_name!r} must be a mapping")
    container_name = service.get("container_name")
    if container_name is not None and container_name != agent_name:
        raise InvalidAgent(f"{path}: container_name is {container_name!r}; it must equal the agent name {agent_name!r}")
    return compose
