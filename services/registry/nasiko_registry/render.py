"""The whole Kong declarative config, as a pure function of the routed agents.

    text = dump(render_config([RouteTarget("weather", "weather", 5000)]))

Every entity is named, so Kong's errors can be traced back to an agent, and
every agent entity is tagged `nasiko-agent:<name>` for the same reason.

Prefix collisions. A plain Kong path is a prefix match: `/weather` would also
take `/weatherman/x`. Each route therefore gets two paths:
  - `~/weather$`  the bare name, as an anchored regex (Kong 3 spells regex
                  paths with a leading `~` and anchors them at the start);
  - `/weather/`   everything below it, as a plain prefix that ends in `/`.
`/weatherman/x` matches neither. A single regex such as `~/weather(/|$)`
would do the same, but the plain prefix keeps the common case off the regex
engine and makes `strip_path` obvious: `/weather/health` reaches the agent as
`/health`, and `/weather` as `/`. Platform routes use the same pair.
"""

import hashlib
from dataclasses import dataclass

import yaml

FORMAT_VERSION = "3.0"
AGENT_TAG = "nasiko-agent"
PLATFORM_TAG = "nasiko-platform"
# Agents may think for a while (LLM calls): give them longer than Kong's 60 s.
AGENT_TIMEOUT_MS = 300_000


@dataclass(frozen=True)
class PlatformRoute:
    name: str
    url: str
    prefix: str
    strip_path: bool = True
    exact_only: bool = False


# The platform's own services. The backend serves under /api/v1 itself, so its
# prefix is kept; the others serve at their root.
PLATFORM_ROUTES = (
    PlatformRoute("nasiko-backend", "http://nasiko-backend:8000", "/api", strip_path=False),
    PlatformRoute("nasiko-router", "http://nasiko-router:8081", "/router"),
    PlatformRoute("nasiko-auth", "http://nasiko-auth:8082", "/auth"),
    PlatformRoute("nasiko-web", "http://nasiko-web:4000", "/app"),
    # `curl localhost:9100/status` answers with the registry's /status: last
    # sync, Kong reachability, config hash, agents left out and why.
    PlatformRoute("kong-service-registry", "http://kong-service-registry:8080/status", "/status",
                  exact_only=True),
)


@dataclass(frozen=True)
class RouteTarget:
    """One agent to route: name (route, service, path) and upstream host:port."""

    name: str
    host: str
    port: int

    @property
    def upstream(self) -> str:
        return f"http://{self.host}:{self.port}"


def guarded_paths(prefix: str) -> list[str]:
    """`/weather` -> [`~/weather$`, `/weather/`] (see the module doc)."""
    return [f"~{prefix}$", f"{prefix}/"]


def agent_tag(name: str) -> str:
    return f"{AGENT_TAG}:{name}"


def agent_service(target: RouteTarget) -> dict:
    tags = [AGENT_TAG, agent_tag(target.name)]
    return {
        "name": target.name,
        "url": target.upstream,
        "read_timeout": AGENT_TIMEOUT_MS,
        "write_timeout": AGENT_TIMEOUT_MS,
        "tags": tags,
        "routes": [
            {
                "name": target.name,
                "paths": guarded_paths(f"/{target.name}"),
                "strip_path": True,
                "tags": list(tags),  # a copy: shared lists would dump as YAML anchors
            }
        ],
    }


def platform_services() -> list[dict]:
    services = []
    for route in PLATFORM_ROUTES:
        paths = [f"~{route.prefix}$"] if route.exact_only else guarded_paths(route.prefix)
        services.append(
            {
                "name": route.name,
                "url": route.url,
                "tags": [PLATFORM_TAG],
                "routes": [
                    {"name": route.name, "paths": paths, "strip_path": route.strip_path,
                     "tags": [PLATFORM_TAG]}
                ],
            }
        )
    return services


def render_config(targets: list[RouteTarget]) -> dict:
    """The full declarative config: platform routes first, then agents by name."""
    agents = [agent_service(t) for t in sorted(targets, key=lambda t: t.name)]
    return {"_format_version": FORMAT_VERSION, "services": platform_services() + agents}


def dump(config: dict) -> str:
    header = "# Written by kong-service-registry: every change is overwritten. Do not edit.\n"
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def agent_of(tags: list[str] | None) -> str | None:
    """The agent an entity belongs to, from its `nasiko-agent:<name>` tag."""
    for tag in tags or []:
        if tag.startswith(f"{AGENT_TAG}:"):
            return tag.split(":", 1)[1]
    return None
