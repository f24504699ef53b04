"""Agent names: each becomes a container name, a DNS name on the stack
network and a gateway path, so it must be a DNS label that no stack service
already uses.

    check_agent_name("crewai")        # "crewai"
    check_agent_name("WeatherAgent")  # raises InvalidAgentName (says why and what to use)
"""

import re

# RFC 1123 label: lowercase letters, digits and "-", starting and ending with a
# letter or digit, 2 to 63 characters (the engine refuses one-character
# container names).
_DNS_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")

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


class InvalidAgentName(ValueError):
    """The name cannot be used for an agent; the message says why and how to fix it."""


def suggest_name(name: str) -> str:
    """A valid label close to `name` ("Weather Agent" -> "weather-agent"), or "" if none."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    label = re.sub(r"-{2,}", "-", label).strip("-")
    return label[:63].rstrip("-")


# The gateway's platform routes: an agent at /NAME must not shadow them.
GATEWAY_PATHS = frozenset({"api", "router", "auth", "app", "status"})


def check_agent_name(name: str) -> str:
    """Return `name` if it can name an agent, else raise InvalidAgentName."""
    if name in RESERVED_NAMES:
        raise InvalidAgentName(f"agent name {name!r} is reserved by a stack service; rename the agent folder")
    if name in GATEWAY_PATHS:
        raise InvalidAgentName(f"agent name {name!r} is a platform route of the gateway (/{name}); rename the agent")
    if not _DNS_LABEL.match(name):
        suggestion = suggest_name(name)
        hint = f" (for example {suggestion!r})" if suggestion and suggestion not in RESERVED_NAMES else ""
        raise InvalidAgentName(
            f"agent name {name!r} is not a valid DNS label: use 2-63 lowercase letters, digits"
            f" and '-', starting and ending with a letter or digit{hint}"
        )
    return name
