"""What the worker takes from an agent's docker-compose.yml, and what it refuses.

The worker does not run Compose: it reads the agent's own service (the key
equal to the agent name) and keeps the parts that are safe to apply to one
container on the platform network:

    taken     environment, env_file (relative, inside the folder), command,
              entrypoint, working_dir, user, healthcheck, named volumes
              (named `<agent>_<volume>`, as Compose would with the agent as project)
    refused   privileged, pid/ipc: host, cap_add, devices, security_opt and
              host bind mounts -- unless WORKER_ALLOW_UNSAFE names the key
              (privileged, pid, ipc, cap_add, devices, security_opt, bind_mounts)
    never     network_mode: the agent must join the platform network so the
              gateway can route to it
    ignored   ports, build, image, restart, container_name, depends_on and
              other keys: the worker decides those (each is noted in the log)

Companion services (the other services in the file, e.g. a database) run
from their `image:` under the same policy, on a network of the agent's own
where the agent reaches each by its service name; they start before the
agent and go with it. Named volumes are the agent's, shared with them.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dotenv import dotenv_values

from .validate import RESERVED_NAMES, InvalidAgent

# A companion's name is its DNS name on the agent's own network.
COMPANION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Docker's rule for volume names.
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
UNSAFE_KEYS = ("privileged", "pid", "ipc", "cap_add", "devices", "security_opt", "bind_mounts")
QUIETLY_REPLACED = {
    "build",
    "image",
    "container_name",
    "restart",
    "ports",
    "expose",
    "networks",
    "depends_on",
    "labels",
}


@dataclass
class RunOptions:
    """Container settings derived from the compose service (docker-py keyword names)."""

    environment: dict[str, str] = field(default_factory=dict)
    command: str | list[str] | None = None
    entrypoint: str | list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    healthcheck: dict | None = None
    # {volume name: {"bind": target, "mode": "rw"|"ro"}}; host paths only when allowed.
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)
    named_volumes: list[str] = field(default_factory=list)
    privileged: bool = False
    pid_mode: str | None = None
    ipc_mode: str | None = None
    cap_add: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The other services of the agent's compose file (agent's options only).
    companions: list["Companion"] = field(default_factory=list)


@dataclass
class Companion:
    """A companion service (a database, a cache...): run from its image, reached by the agent as `service`."""

    service: str
    image: str
    options: RunOptions


class UnsafeComposeKey(InvalidAgent):
    """The compose service asks for host access the user has not allowed."""


def run_options(compose: dict, agent_name: str, folder: Path, allowed: frozenset[str] = frozenset()) -> RunOptions:
    """Turn the agent's compose service (and its companions) into RunOptions, refusing what is unsafe."""
    if not compose:
        return RunOptions()
    services = compose.get("services") or {}
    options = _service_options(services.get(agent_name) or {}, agent_name, agent_name, folder, allowed)
    names = [name for name in services if name != agent_name]
    if any(not isinstance(name, str) for name in names):
        raise InvalidAgent(f"docker-compose.yml service names must be text, not {names!r}: quote them")
    for name in sorted(names):
        companion = _companion(services[name], name, agent_name, folder, allowed)
        options.companions.append(companion)
        options.notes.extend(f"companion {name}: {note}" for note in companion.options.notes)
    return options


def _companion(service: object, name: str, agent_name: str, folder: Path, allowed: frozenset[str]) -> "Companion":
    if not COMPANION_NAME.match(name):
        raise InvalidAgent(f"companion service {name!r}: use lowercase letters, digits, '-' and '_' for its name "
                           "(the agent reaches it by this name)")
    if name == "previous":  # NAME.previous is the agent's own container while it is being replaced
        raise InvalidAgent("companion service 'previous': the name is taken by the worker; rename the service")
    if name in RESERVED_NAMES:
        raise InvalidAgent(f"companion service {name!r} has the name of a stack service, which the agent reaches "
                           "by that name too: rename the companion")
    if not isinstance(service, dict) or not isinstance(service.get("image"), str) or not service["image"].strip():
        raise InvalidAgent(f"companion service {name!r} needs an `image:` (the local worker builds only the agent "
                           "itself, and starts companions from images)")
    return Companion(name, service["image"].strip(), _service_options(service, name, agent_name, folder, allowed))


def _service_options(service: dict, service_name: str, agent_name: str, folder: Path,
                     allowed: frozenset[str]) -> RunOptions:
    """One compose service's settings; named volumes belong to the agent (shared with its companions)."""
    options = RunOptions()

    def refuse_unless_allowed(key: str, detail: str) -> None:
        if key not in allowed:
            raise UnsafeComposeKey(
                f"docker-compose.yml service {service_name!r} uses `{detail}`, which gives the container "
                f"access to the host: remove it, or allow it explicitly with WORKER_ALLOW_UNSAFE={key}"
            )

    if service.get("network_mode") is not None:
        raise UnsafeComposeKey(
            f"docker-compose.yml service {service_name!r} sets `network_mode: {service['network_mode']}`: "
            "remove it; the worker chooses the networks (agents always join the platform network so the "
            "gateway can reach them, companions their agent's own network)"
        )
    if service.get("privileged"):
        refuse_unless_allowed("privileged", "privileged: true")
        options.privileged = True
    for key, attr in (("pid", "pid_mode"), ("ipc", "ipc_mode")):
        if service.get(key) is not None:
            refuse_unless_allowed(key, f"{key}: {service[key]}")
            setattr(options, attr, str(service[key]))
    for key in ("cap_add", "devices", "security_opt"):
        if service.get(key):
            refuse_unless_allowed(key, f"{key}: {service[key]}")
            setattr(options, key, [str(item) for item in _listed(service, key, service_name)])

    options.environment = _environment(service, folder, service_name)
    for key in ("command", "entrypoint", "working_dir", "user"):
        if service.get(key) is not None:
            setattr(options, key, service[key])
    if service.get("healthcheck") is not None:
        if not isinstance(service["healthcheck"], dict):
            raise InvalidAgent(f"service {service_name!r}: healthcheck must be a mapping (test:, interval:, ...)")
        options.healthcheck = _healthcheck(service["healthcheck"])
    _volumes(_listed(service, "volumes", service_name), options, agent_name, service_name, refuse_unless_allowed)

    ignored = sorted(set(service) - QUIETLY_REPLACED - _HANDLED)
    if ignored:
        options.notes.append(f"docker-compose.yml keys not applied by the worker: {', '.join(ignored)}")
    return options


_HANDLED = {
    "network_mode",
    "privileged",
    "pid",
    "ipc",
    "cap_add",
    "devices",
    "security_opt",
    "environment",
    "env_file",
    "command",
    "entrypoint",
    "working_dir",
    "user",
    "healthcheck",
    "volumes",
}


def _environment(service: dict, folder: Path, agent_name: str) -> dict[str, str]:
    """env_file entries first, then `environment` on top (Compose's precedence)."""
    env: dict[str, str] = {}
    env_files = service.get("env_file") or []
    entries = [env_files] if isinstance(env_files, str | dict) else env_files
    if not isinstance(entries, list):
        raise InvalidAgent(f"service {agent_name!r}: env_file must be a path or a list of paths, not {env_files!r}")
    for entry in entries:
        relative = entry.get("path") if isinstance(entry, dict) else entry
        required = entry.get("required", True) if isinstance(entry, dict) else True
        if not isinstance(relative, str) or not relative:
            raise InvalidAgent(f"service {agent_name!r}: env_file entry {entry!r} is not a path: "
                               "write a path relative to the agent folder, e.g. `env_file: .env.agent`")
        path = _inside(folder, relative, f"env_file {relative!r} of service {agent_name!r}")
        if not path.is_file():
            if required:
                raise InvalidAgent(f"env_file {relative!r} does not exist in {folder}: add it or remove the entry")
            continue
        try:
            values = dotenv_values(path, encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidAgent(f"env_file {relative!r} of service {agent_name!r} is not UTF-8 text: "
                               "save it as plain KEY=value lines") from None
        env.update({k: v for k, v in values.items() if v is not None})
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) if "=" in item else (item, None) for item in map(str, declared))
    if not isinstance(declared, dict):
        raise InvalidAgent(f"service {agent_name!r}: environment must be a mapping (KEY: value) or a list of "
                           f"KEY=value strings, not {declared!r}")
    for key, value in declared.items():
        # A bare `KEY` means "take it from the host" in Compose; the worker has no
        # user shell to take it from, so it is left out rather than guessed.
        if value is not None:
            env[str(key)] = str(value)
    return env


def _listed(service: dict, key: str, service_name: str) -> list:
    value = service.get(key) or []
    if not isinstance(value, list):
        raise InvalidAgent(f"service {service_name!r}: {key} must be a list (one `- item` a line), not {value!r}")
    return value


def _volumes(entries: list, options: RunOptions, agent_name: str, service_name: str, refuse_unless_allowed) -> None:
    for entry in entries:
        if isinstance(entry, dict):
            kind, source, target = entry.get("type", "volume"), entry.get("source"), entry.get("target")
            mode = "ro" if entry.get("read_only") else "rw"
        else:
            parts = str(entry).split(":")
            if len(parts) == 1:
                options.notes.append(f"anonymous volume {entry!r} not applied: give it a name")
                continue
            source, target = parts[0], parts[1]
            mode = parts[2] if len(parts) > 2 else "rw"
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        if not source or not target:
            options.notes.append(f"volume {entry!r} not applied: it needs a source and a target")
            continue
        if kind == "bind":
            refuse_unless_allowed("bind_mounts", f"volumes: {source}:{target}")
            options.volumes[str(source)] = {"bind": str(target), "mode": mode}
        elif kind == "volume":
            # Prefixed per agent, as Compose prefixes with its project: two agents
            # that both call a volume `data` do not share it, and no agent can
            # name its way into another project's volume (the runner also
            # refuses an existing volume that is not this agent's).
            if not VOLUME_NAME.match(str(source)):
                hint = (" (the worker does not expand ${...} variables: write the value out)"
                        if "$" in str(source) else "")
                raise InvalidAgent(f"volume {entry!r} of service {service_name!r}: {source!r} is not a volume name; "
                                   f"use letters, digits, '_', '.' or '-'{hint}")
            name = f"nasiko-agent.{agent_name}.{source}"
            options.named_volumes.append(name)
            options.volumes[name] = {"bind": str(target), "mode": mode}
        else:
            options.notes.append(f"volume of type {kind!r} not applied")


def _healthcheck(spec: dict) -> dict | None:
    """Compose healthcheck -> Docker API healthcheck (durations in nanoseconds)."""
    if spec.get("disable"):
        return {"test": ["NONE"]}
    test = spec.get("test")
    if not test:
        return None
    if not (isinstance(test, str) or (isinstance(test, list) and all(isinstance(part, str) for part in test))):
        raise InvalidAgent(f"healthcheck test {test!r} is not valid: use a shell command string, or a list "
                           "such as [\"CMD\", \"python\", \"-c\", \"...\"]")
    result: dict = {"test": ["CMD-SHELL", test] if isinstance(test, str) else list(test)}
    for key in ("interval", "timeout", "start_period"):
        if key in spec:
            result[key] = int(_seconds(str(spec[key])) * 1_000_000_000)
    if "retries" in spec:
        retries = spec["retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidAgent(f"healthcheck retries {retries!r} is not valid: use a whole number, e.g. 3")
        result["retries"] = retries
    return result


def _seconds(duration: str) -> float:
    """Compose duration ('1m30s', '5s', '500ms') in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    invalid = InvalidAgent(f"healthcheck duration {duration!r} is not valid: use e.g. '5s' or '1m30s'")
    total, number = 0.0, ""
    index = 0
    while index < len(duration):
        char = duration[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        unit = "ms" if duration.startswith("ms", index) else "us" if duration.startswith("us", index) else char
        if unit not in units or not number:
            raise invalid
        total += _number(number, invalid) * units[unit]
        number, index = "", index + len(unit)
    return total + (_number(number, invalid) if number else 0.0)  # a bare number counts as seconds


def _number(text: str, invalid: InvalidAgent) -> float:
    try:
        return float(text)
    except ValueError:  # "1.5.0", "."
        raise invalid from None


def _inside(folder: Path, relative: str, what: str) -> Path:
    if PurePosixPath(relative).is_absolute():
        raise InvalidAgent(f"{what} is an absolute path: use a path relative to the agent folder")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise InvalidAgent(f"{what} points outside the agent folder: keep it inside")
    return path
