"""Running `docker compose` for the stack, and reading its resolved config.

Compose is the only interpreter of the compose file and the env file. What a
task needs to know (ports, images, which optional parts are on) is read back
from `docker compose config --format json`.
"""

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .envfile import EnvChoice
from .errors import NasikoError

PROJECT = "nasiko"
COMPOSE_FILE = "docker-compose.nasiko.yml"
NETWORK = "nasiko-network"

# Optional parts of the stack, each a Compose profile switched by a setting in
# the `x-nasiko` block of the compose file.
OPTIONAL_PARTS = {"gateway": "gateway", "observability": "observability"}
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0", ""}


@dataclass(frozen=True)
class PublishedPort:
    service: str
    host_ip: str
    port: int
    target: int


def compose_v2_version() -> str:
    """The Compose v2 version, or a NasikoError that says how to get it."""
    if shutil.which("docker") is None:
        raise NasikoError("the docker CLI is not installed", hint="install Docker (https://docs.docker.com/get-docker/)")
    result = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True)
    version = result.stdout.strip().lstrip("v")
    if result.returncode == 0 and version and int(version.split(".")[0]) >= 2:
        return version
    if shutil.which("docker-compose"):
        raise NasikoError(
            "only Compose v1 (`docker-compose`) is installed; nasiko-local needs Compose v2 (`docker compose`)",
            hint="install the Compose v2 plugin (Debian/Ubuntu: the docker-compose-plugin or "
            "docker-compose >= 2 package; on CI here: scripts/ci/provision.sh)",
        )
    raise NasikoError(
        "Compose v2 is not installed (`docker compose version` failed)",
        hint="install the Compose v2 plugin (docker-compose-plugin), or Docker Desktop",
    )


def _last_lines(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _port_number(value: object, service: str) -> int:
    """One host port, 1-65535 (Compose also accepts ranges and 0 = any port)."""
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise NasikoError(f"the host port of {service} is {value!r}: one port number from 1 to 65535 is needed",
                          hint="fix its NASIKO_PORT_* setting in your env file")
    return port


class ComposeConfig:
    """The resolved compose model, as Compose itself computed it."""

    def __init__(self, model: dict) -> None:
        self.model = model

    @property
    def services(self) -> dict[str, dict]:
        return self.model.get("services", {})

    def setting(self, name: str, default: str = "") -> str:
        # `config` escapes a literal `$` as `$$`.
        return str(self.model.get("x-nasiko", {}).get(name, default)).replace("$$", "$")

    def part_enabled(self, part: str) -> bool:
        value = self.setting(part, "on").strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise NasikoError(
            f"setting NASIKO_{part.upper()}={value!r} is neither on nor off",
            hint=f"set NASIKO_{part.upper()}=on or NASIKO_{part.upper()}=off in your env file",
        )

    def profiles_of(self, service: str) -> list[str]:
        return list(self.services[service].get("profiles", []))

    def built_here(self, service: str) -> bool:
        return "build" in self.services[service]

    def image(self, service: str) -> str:
        return self.services[service]["image"]

    def build_arg(self, service: str, name: str) -> str | None:
        return ((self.services[service].get("build") or {}).get("args") or {}).get(name)

    def published_ports(self, services: list[str] | None = None) -> list[PublishedPort]:
        ports = []
        for name, spec in self.services.items():
            if services is not None and name not in services:
                continue
            for entry in spec.get("ports", []):
                if entry.get("published"):
                    ports.append(PublishedPort(name, entry.get("host_ip") or "0.0.0.0",
                                               _port_number(entry["published"], name), int(entry["target"])))
        return ports


class Compose:
    """`docker compose -p nasiko -f docker-compose.nasiko.yml --env-file …`."""

    def __init__(self, root: Path, env: EnvChoice, project: str = PROJECT) -> None:
        self.root = root
        self.env = env
        self.project = project
        self.file = root / COMPOSE_FILE

    def args(self, *command: str, profiles: list[str] | tuple[str, ...] = ()) -> list[str]:
        base = ["docker", "compose", "-p", self.project, "-f", str(self.file), "--env-file", self.env.compose_arg]
        if not sys.stdout.isatty():
            base += ["--ansi", "never"]  # no terminal control codes in files and pipes
        for profile in profiles:
            base += ["--profile", profile]
        return [*base, *command]

    def run(self, *command: str, profiles=(), capture: bool = True, check: bool = True,
            what: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
        """Run a compose command; on failure raise a NasikoError with its output."""
        result = subprocess.run(
            self.args(*command, profiles=profiles), cwd=self.root, capture_output=capture, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            detail = _last_lines((result.stderr or "") + (result.stdout or "")) if capture else ""
            if "'compose' is not a docker command" in detail or "unknown command: docker compose" in detail:
                compose_v2_version()  # raises the error that says how to get Compose v2
            raise NasikoError(f"{what or 'docker compose ' + command[0]} failed (exit {result.returncode})"
                              + (f":\n{detail}" if detail else ""), hint=self._hint(detail))
        return result

    def _hint(self, detail: str) -> str | None:
        if "failed to read" in detail and self.env.path:
            return f"fix the line named above in {self.env.path} (lines are KEY=VALUE; quote values with spaces)"
        if "Couldn't find env file" in detail:
            return "pass an existing file to --config"
        if "Invalid hostPort" in detail or "invalid hostPort" in detail:
            return "NASIKO_PORT_* settings must be port numbers (1-65535) in your env file"
        if "address already in use" in detail or "port is already allocated" in detail:
            return "a port of the stack is taken: stop what holds it or set NASIKO_PORT_<NAME> in your env file"
        return None

    def start(self, *command: str, profiles=(), log_path: Path) -> subprocess.Popen:
        """Start a compose command in the background, its output going to `log_path`."""
        with open(log_path, "wb") as log:
            return subprocess.Popen(self.args(*command, profiles=profiles), cwd=self.root,
                                    stdout=log, stderr=subprocess.STDOUT)

    @cached_property
    def config(self) -> ComposeConfig:
        result = self.run("config", "--format", "json", profiles=("*",), what="reading the compose config")
        return ComposeConfig(json.loads(result.stdout))

    def active_profiles(self, dev: bool = False) -> list[str]:
        """Profiles of the optional parts that are switched on (`--dev` drops observability)."""
        profiles = []
        for part, profile in OPTIONAL_PARTS.items():
            if part == "observability" and dev:
                continue
            if self.config.part_enabled(part):
                profiles.append(profile)
        return profiles

    def services(self, profiles: list[str]) -> list[str]:
        """Services that run with these profiles, in the file's order."""
        return [name for name, spec in self.config.services.items()
                if not spec.get("profiles") or set(spec["profiles"]) & set(profiles)]

    def left_out(self, profiles: list[str]) -> list[str]:
        return [name for name in self.config.services if name not in self.services(profiles)]
