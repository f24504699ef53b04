"""How Kong 3 matches and strips route paths, small enough to check by eye.

- a path starting with `~` is a regex, anchored at the start of the request
  path (Kong runs it with the PCRE `a` flag);
- any other path is a plain prefix;
- with strip_path, the matched part is removed and a leading `/` is kept.
Longest plain prefixes win over shorter ones; our routes never overlap, so
the first match is the only one.
"""

import re


def match(paths: list[str], request_path: str) -> str | None:
    """The part of `request_path` a route with `paths` matches, or None."""
    for path in paths:
        if path.startswith("~"):
            found = re.match(path[1:], request_path)
            if found:
                return found.group(0)
        elif request_path.startswith(path):
            return path
    return None


def route(config: dict, request_path: str) -> tuple[str, str] | None:
    """(service name, upstream path) Kong would pick for `request_path`."""
    hits = []
    for service in config["services"]:
        for r in service["routes"]:
            matched = match(r["paths"], request_path)
            if matched is not None:
                rest = request_path[len(matched):] if r.get("strip_path", True) else request_path
                hits.append((len(matched), service["name"], "/" + rest.lstrip("/")))
    if not hits:
        return None
    hits.sort(reverse=True)
    return hits[0][1], hits[0][2]
