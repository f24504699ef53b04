"""The stack's lifecycle: up, down, restart, logs, shell, build, push, status.

Plain functions over a `Stack`; the invoke tasks, the nox sessions and CI all
call these. Progress goes to a `Reporter` (see console.py), never to print().
"""

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import docker

from . import images, preflight
from .compose import NETWORK, Compose
from .containers import (
    AGENT_LABEL,
    AGENT_NETWORK_LABEL,
    COMPANION_LABEL,
    PROJECT_LABEL,
    agent_containers,
    companion_containers,
    containers_labelled,
    project_containers,
    service_states,
)
from .docker_api import docker_client
from .envfile import EnvChoice, choose_env_file
from .errors import NasikoError
from .health import wait_healthy
from .reporter import Reporter, SilentReporter
from .status import StackStatus, collect_status

ROOT = Path(__file__).resolve().parent.parent
SHELL_COMMAND = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"


@dataclass
class Stack:
    compose: Compose
    dev: bool = False
    _client: docker.DockerClient | None = field(default=None, repr=False)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_client()
        return self._client

    @property
    def profiles(self) -> list[str]:
        return self.compose.active_profiles(dev=self.dev)

    @property
    def services(self) -> list[str]:
        return self.compose.services(self.profiles)

    def resolve(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """Check service names, naming the valid ones when one is unknown."""
        known = list(self.compose.config.services)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise NasikoError(f"unknown service {', '.join(n or repr(n) for n in unknown)}",
                              hint=f"valid services: {', '.join(known)}")
        return list(names)


ENV_FILE_LABEL = "com.docker.compose.project.environment_file"


def load_stack(config: str | Path | None = None, *, root: Path = ROOT, dev: bool = False) -> Stack:
    """The stack as configured: env file chosen by the documented order.

    With no --config and none of the usual files, a running stack's own env
    file (Compose records it on each container) is used, so `status`, `logs`
    and the rest see the stack `up --config FILE` started.
    """
    choice = choose_env_file(root, config)
    stack = Stack(Compose(root, choice), dev=dev)
    if choice.path is None:
        started_with = _running_env_file(stack)
        if started_with is not None:
            stack.compose = Compose(root, EnvChoice(started_with, "the env file the running stack was started with"))
    return stack


def _running_env_file(stack: Stack) -> Path | None:
    try:
        containers = project_containers(stack.client, stack.compose.project)
    except NasikoError:
        return None  # no engine: the tasks that need one will say so
    for container in containers.values():
        recorded = container.labels.get(ENV_FILE_LABEL, "")
        if recorded and recorded != "/dev/null" and Path(recorded).is_file():
            return Path(recorded)
    return None


# --- up ----------------------------------------------------------------------------

def check_machine(stack: Stack, reporter: Reporter) -> None:
    """Preflight: engine reachable, Compose v2, config readable, ports free, memory."""
    from .compose import compose_v2_version

    client = stack.client
    reporter.step(f"Docker engine {client.version().get('Version')}, Compose {compose_v2_version()}")
    reporter.step(f"env file: {stack.compose.env.path or 'none'} ({stack.compose.env.reason})")
    left_out = stack.compose.left_out(stack.profiles)
    if left_out:
        reporter.warn(f"left out (switched off): {', '.join(left_out)}")
    preflight.check_ports(stack.compose, stack.services, client)
    preflight.check_memory(client, "observability" in stack.profiles)


def up(stack: Stack, reporter: Reporter | None = None, *, build: bool | None = None, attach: bool = False,
       timeout: float = 300) -> StackStatus:
    reporter = reporter or SilentReporter()
    check_machine(stack, reporter)
    images.ensure_images(stack, reporter, build=build)
    command = ["up", "--no-build", "--pull", "never", "--remove-orphans"]
    if attach:
        reporter.step("starting in the foreground (Ctrl-C stops the stack)")
        try:
            code = stack.compose.run(*command, profiles=stack.profiles, capture=False, check=False).returncode
        except KeyboardInterrupt:
            code = 0  # the user stopped it: Compose stops the containers itself
        if code not in (0, 130):
            raise NasikoError(f"docker compose up ended with exit code {code}",
                              hint="read the lines above; `invoke logs -s SERVICE` shows one service")
        return status(stack)
    reporter.step(f"starting {len(stack.services)} services, waiting on their health checks")
    with tempfile.TemporaryDirectory(prefix="nasiko-up-") as tmp:
        log = Path(tmp) / "compose-up.log"
        # Compose starts services in dependency order; watching meanwhile shows
        # progress live and fails fast on a container that dies.
        process = stack.compose.start(*command, "--detach", profiles=stack.profiles, log_path=log)
        try:
            wait_healthy(stack.client, stack.compose.project, stack.services, timeout=timeout,
                         on_change=reporter.service, starter=(process, log))
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    return status(stack)


# --- down, restart ---------------------------------------------------------------------

@dataclass
class DownResult:
    agents_removed: list[str]
    volumes_removed: bool
    leftovers: list[str]


def down(stack: Stack, reporter: Reporter | None = None, *, volumes: bool = False) -> DownResult:
    """Stop the stack and the agents the worker started; nothing labelled nasiko stays."""
    reporter = reporter or SilentReporter()
    client = stack.client
    _refuse_if_network_shared(client)  # before anything is removed: all or nothing
    agents, agent_names = [], set()
    for container in agent_containers(client):
        agents.append(container.name)
        agent_names.add(container.labels.get(AGENT_LABEL))
        container.remove(force=True, v=volumes)
    # Companions of this stack's agents, and orphans whose agent is gone (a failed
    # first deploy); those of agents on other networks (a test run) are not ours.
    elsewhere = {c.labels.get(AGENT_LABEL) for c in containers_labelled(client, AGENT_LABEL)}
    companions = containers_labelled(client, COMPANION_LABEL)
    ours = agent_names | ({c.labels.get(COMPANION_LABEL) for c in companions} - elsewhere)
    for container in companions:
        if container.labels.get(COMPANION_LABEL) in ours:
            agents.append(container.name)
            container.remove(force=True, v=volumes)
    leftover_networks = []
    for network in client.networks.list(filters={"label": AGENT_NETWORK_LABEL}):
        if network.attrs.get("Labels", {}).get(AGENT_NETWORK_LABEL) in ours:
            try:
                network.remove()
            except docker.errors.APIError:
                leftover_networks.append(f"network {network.name}")
    if agents:
        reporter.step(f"removed agent containers: {', '.join(agents)}")
    command = ["down", "--remove-orphans", *(["--volumes"] if volumes else [])]
    stack.compose.run(*command, profiles=("*",), what="stopping the stack")
    if volumes:
        for volume in client.volumes.list(filters={"label": AGENT_LABEL}):
            try:
                volume.remove()
            except docker.errors.APIError:  # still used by an agent of another network: not ours
                continue
    leftovers = _leftovers(client, stack.compose.project, volumes)
    leftovers += [f"container {c.name}" for c in companion_containers(client, ours)] + leftover_networks
    reporter.step("stack stopped" + (" and its volumes removed" if volumes else " (volumes kept)"))
    return DownResult(agents, volumes, leftovers)


def _refuse_if_network_shared(client: docker.DockerClient) -> None:
    try:
        network = client.networks.get(NETWORK)
    except docker.errors.NotFound:
        return
    network.reload()
    strangers = []
    for info in (network.attrs.get("Containers") or {}).values():
        name = info.get("Name", "?")
        try:
            labels = client.containers.get(name).labels
        except docker.errors.NotFound:
            continue
        if not (labels.get(PROJECT_LABEL) or labels.get(AGENT_LABEL)):
            strangers.append(name)
    if strangers:
        raise NasikoError(f"{NETWORK} is also used by containers outside the stack: {', '.join(strangers)}",
                          hint=f"disconnect or stop them (`docker network disconnect {NETWORK} NAME`), "
                               "then run `invoke down` again")


def _leftovers(client: docker.DockerClient, project: str, volumes: bool) -> list[str]:
    found = [f"container {c.name}" for c in containers_labelled(client, f"{PROJECT_LABEL}={project}")]
    found += [f"container {c.name}" for c in agent_containers(client)]
    found += [f"network {n.name}" for n in client.networks.list(names=[NETWORK]) if n.name == NETWORK]
    if volumes:
        found += [f"volume {v.name}" for v in client.volumes.list(filters={"label": f"{PROJECT_LABEL}={project}"})]
    return found


def restart(stack: Stack, reporter: Reporter | None = None, service: str | None = None,
            timeout: float = 300) -> StackStatus:
    """Recreate one service alone (dependencies untouched), or every service."""
    reporter = reporter or SilentReporter()
    targets = stack.resolve([service]) if service is not None else stack.services
    if not project_containers(stack.client, stack.compose.project):
        # Recreating would start a stack nobody asked for, with whatever env file is found.
        raise NasikoError("the stack is not running: there is nothing to restart", hint="start it with `invoke up`")
    if service is not None and service not in stack.services:
        raise NasikoError(f"{service} is switched off in this configuration",
                          hint="switch its part on (NASIKO_GATEWAY / NASIKO_OBSERVABILITY) or drop --dev")
    extra = ["--no-deps", *targets] if service is not None else []
    reporter.step(f"recreating {', '.join(targets) if service is not None else 'every service'}")
    stack.compose.run("up", "--detach", "--force-recreate", "--no-build", "--pull", "never", *extra,
                      profiles=stack.profiles, what="restarting")
    wait_healthy(stack.client, stack.compose.project, targets, timeout=timeout, on_change=reporter.service)
    return status(stack)


# --- logs, shell, status -------------------------------------------------------------------

def require_running(stack: Stack, service: str) -> None:
    """Raise a NasikoError saying what to do unless `service` is running."""
    state = service_states(stack.client, stack.compose.project, [service])[service]
    if state.state != "running":
        if not project_containers(stack.client, stack.compose.project):
            raise NasikoError("the stack is not running", hint="start it with `invoke up`")
        raise NasikoError(f"{service} is not running (state: {state.state})",
                          hint=f"see `invoke logs -s {service}`, then `invoke restart --service {service}`")


def logs_command(stack: Stack, services: list[str], *, follow: bool = False, tail: int | None = None,
                 timestamps: bool = False) -> list[str]:
    """The compose command that shows the logs (agents by name too)."""
    # Agents by name; their companions by container name (NAME.SERVICE).
    containers = {c.labels[AGENT_LABEL]: c.name for c in agent_containers(stack.client)}
    containers |= {c.name: c.name for c in containers_labelled(stack.client, COMPANION_LABEL)}
    options = [*(["--follow"] if follow else []), *(["--tail", str(tail)] if tail is not None else []),
               *(["--timestamps"] if timestamps else [])]
    if len(services) == 1 and services[0] in containers:
        return ["docker", "logs", *options, containers[services[0]]]
    if any(s in containers for s in services):
        raise NasikoError("show an agent's logs on their own", hint="e.g. `invoke logs -s crewai`")
    stack.resolve(services)
    if not project_containers(stack.client, stack.compose.project):
        raise NasikoError("the stack is not running: there are no logs to show", hint="start it with `invoke up`")
    return stack.compose.args("logs", *options, *services, profiles=("*",))


def shell_command(stack: Stack, service: str, command: str | None = None) -> list[str]:
    """`docker compose exec` into a running service: bash if the image has it, else sh."""
    stack.resolve([service])
    require_running(stack, service)
    if command is not None:
        return stack.compose.args("exec", "-T", service, "sh", "-c", command, profiles=("*",))
    return stack.compose.args("exec", service, "sh", "-c", SHELL_COMMAND, profiles=("*",))


_CONTROL_CODES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def run_attached(args: list[str], root: Path = ROOT) -> int:
    """Run with the terminal attached (logs -f, shell); returns the exit code.

    Into a pipe or file the output is copied line by line without terminal
    control codes, which some Compose versions emit even with `--ansi never`.
    """
    try:
        if sys.stdout.isatty():
            return subprocess.run(args, cwd=root).returncode
        with subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE) as process:
            for line in process.stdout:
                sys.stdout.buffer.write(_CONTROL_CODES.sub(b"", line))
                sys.stdout.buffer.flush()
        return process.returncode
    except KeyboardInterrupt:
        return 130


def stale_settings(stack: Stack, service: str) -> list[str]:
    """Settings whose value in the env file differs from what the running
    container got (it was started before the file changed). Names only: the
    values may be secrets."""
    container = project_containers(stack.client, stack.compose.project).get(service)
    if container is None:
        return []
    running = dict(item.split("=", 1) for item in container.attrs["Config"].get("Env") or [] if "=" in item)
    wanted = stack.compose.config.services[service].get("environment") or {}
    return sorted(key for key, value in wanted.items() if (value or "") != running.get(key, ""))


def worker_allowed_unsafe(stack: Stack) -> frozenset[str]:
    """WORKER_ALLOW_UNSAFE as the worker gets it, so the client applies the same policy."""
    environment = stack.compose.config.services["nasiko-worker"].get("environment") or {}
    return frozenset(k.strip() for k in str(environment.get("WORKER_ALLOW_UNSAFE") or "").split(",") if k.strip())


def agent_ip(stack: Stack, name: str) -> str | None:
    """The agent container's address on the stack network, if it has one."""
    for container in agent_containers(stack.client):
        if container.labels.get(AGENT_LABEL) == name:
            return container.attrs["NetworkSettings"]["Networks"].get(NETWORK, {}).get("IPAddress") or None
    return None


def status(stack: Stack) -> StackStatus:
    return collect_status(stack.compose, stack.client, stack.profiles)
