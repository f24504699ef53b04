"""Kong's validation rules, applied before a config is pushed.

Kong rejects a declarative config as a whole when one entity is invalid, so
an agent whose entities would break a rule is left out here (and reported)
while every other agent keeps its route. Each rule below returns the message
Kong itself would give (Kong 3.x `kong/db/schema/typedefs.lua` and the
declarative loader), or a message of ours where Kong would silently accept
something that does not do what it looks like.
"""

import re
from dataclasses import dataclass, field

from .render import PLATFORM_ROUTES, RouteTarget, agent_service, platform_services

# Kong: typedefs.utf8_name (services and routes). We accept its ASCII subset.
_KONG_NAME = re.compile(r"[A-Za-z0-9.\-_~]+")
# Our contract: the agent name is also a host name and a path segment.
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# Characters with a meaning in a regex; `.` is left out: it is common in
# plain paths (`/v1.0`) and harmless there.
_REGEX_CHARS = set("^$*+?()[]{}|\\")
# RFC 3986 reserved characters: Kong keeps them percent-encoded.
_RESERVED = set("!*'();:@&=+$,/?%#[]")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def kong_name_error(name: str) -> str | None:
    if _KONG_NAME.fullmatch(name):
        return None
    return f"invalid value '{name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~"


def dns_label_error(name: str) -> str | None:
    if _DNS_LABEL.fullmatch(name):
        return None
    return (
        f"agent name '{name}' is not a DNS label (lowercase letters, digits and '-', "
        "1-63 characters, starting and ending with a letter or digit): it is used as host name and path"
    )


def _decode_unreserved(match: re.Match) -> str:
    char = chr(int(match.group(1), 16))
    return match.group(0).upper() if char in _RESERVED else char


def normalize(path: str) -> str:
    """Kong's `kong.tools.uri.normalize(path, true)`: decode unreserved
    percent-escapes, merge slashes, remove `.` and `..` segments."""
    path = _PERCENT.sub(_decode_unreserved, path)
    path = re.sub("/{2,}", "/", path)
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
            continue
        output.append(segment)
    trailing = path.endswith(("/.", "/..")) and output and output[-1] != ""
    return "/" + "/".join(output) + ("/" if trailing else "")


def router_path_error(path: str) -> str | None:
    """The first Kong rule `path` breaks, or None."""
    if not (path.startswith("/") or path.startswith("~/")):
        return "should start with: / (fixed path) or ~/ (regex path)"
    if "//" in path:
        return "must not have empty segments"
    stray = re.search(r"%(?![0-9A-Fa-f]{2}).?.?", path)
    if stray:
        return f"invalid url-encoded value: '{stray.group(0)}'"
    if path.startswith("~"):
        try:
            re.compile(path[1:])
        except re.error as exc:
            return f"invalid regex: '{path[1:]}' (PCRE returned: {exc})"
        return None
    normalized = normalize(path)
    if normalized != path:
        return f"non-normalized path, consider use '{normalized}' instead"
    if _REGEX_CHARS & set(path):
        # Kong 3 accepts this and matches it as a literal prefix; since 3.0 a
        # regex path must start with `~`, so this is almost surely a mistake.
        return f"path '{path}' contains regex characters but no '~' prefix: Kong 3 would match it literally"
    return None


def uniqueness_error(kind: str, name: str) -> str:
    return f"uniqueness violation: '{kind}' entity with name set to '{name}' already declared"


@dataclass
class Plan:
    """Agents that pass every rule, and the others with their reasons."""

    routed: list[RouteTarget] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


def _entity_problems(service: dict, taken: dict[str, set[str]]) -> list[str]:
    problems = []
    for kind, entity in [("services", service)] + [("routes", r) for r in service.get("routes", [])]:
        error = kong_name_error(entity["name"])
        if error:
            problems.append(f"{kind[:-1]} name: {error}")
        elif entity["name"] in taken[kind]:
            problems.append(uniqueness_error(kind, entity["name"]))
        for path in entity.get("paths", []):
            error = router_path_error(path)
            if error:
                problems.append(f"path '{path}': {error}")
    return problems


def plan_routes(targets: list[RouteTarget]) -> Plan:
    """Validate each agent against Kong's rules and the platform's routes."""
    taken: dict[str, set[str]] = {"services": set(), "routes": set()}
    for service in platform_services():
        taken["services"].add(service["name"])
        taken["routes"].update(r["name"] for r in service["routes"])
    platform_prefixes = {route.prefix.lstrip("/"): route.name for route in PLATFORM_ROUTES}

    plan = Plan()
    for target in sorted(targets, key=lambda t: t.name):
        service = agent_service(target)
        problems = _entity_problems(service, taken)
        if not problems:
            label_error = dns_label_error(target.name)
            if label_error:
                problems.append(label_error)
        if target.name in platform_prefixes:
            problems.append(
                f"path '/{target.name}' is the platform route of '{platform_prefixes[target.name]}': "
                "rename the agent"
            )
        if problems:
            plan.excluded[target.name] = "; ".join(problems)
            continue
        taken["services"].add(service["name"])
        taken["routes"].update(r["name"] for r in service["routes"])
        plan.routed.append(target)
    return plan
