"""Reading variable names out of the compose file and the env example.

Kept apart from the tests so the rules are easy to see: Compose interpolates
`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` and bare `$VAR`
in values (never in comments or keys), and `$$` is a literal dollar.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.nasiko.yml"
ENV_EXAMPLE = ROOT / ".env.local.example"
OFFLINE_ENV = ROOT / "scripts" / "ci" / "offline.env"

# `$$` first, so an escaped dollar is never read as the start of a variable.
_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def interpolated_variables(compose_file: Path = COMPOSE_FILE) -> set[str]:
    """Every variable Compose interpolates somewhere in the file's values."""
    names = set()
    for text in _strings(yaml.safe_load(compose_file.read_text(encoding="utf-8"))):
        for match in _REFERENCE.finditer(text):
            name = match.group(1) or match.group(2)
            if name:
                names.add(name)
    return names


def env_assignments(path: Path) -> list[tuple[int, str, str]]:
    """(line number, name, raw value) of each KEY=VALUE line, in file order."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _ASSIGNMENT.match(line)
        if match:
            found.append((number, match.group(1), match.group(2)))
    return found


def env_names(path: Path) -> set[str]:
    return {name for _, name, _ in env_assignments(path)}
