"""Checks made before the stack starts, each failing with what to do about it."""

import errno
import socket
from dataclasses import dataclass

import docker
import psutil

from .compose import Compose, PublishedPort
from .containers import containers_labelled
from .errors import NasikoError

# Which setting moves which published port: (service, container port) -> variable.
PORT_SETTINGS = {
    ("kong", 8000): "NASIKO_PORT_KONG_PROXY",
    ("kong", 8001): "NASIKO_PORT_KONG_ADMIN",
    ("nasiko-backend", 8000): "NASIKO_PORT_BACKEND",
    ("nasiko-web", 4000): "NASIKO_PORT_WEB",
    ("kong-service-registry", 8080): "NASIKO_PORT_REGISTRY",
    ("nasiko-router", 8081): "NASIKO_PORT_ROUTER",
    ("nasiko-auth", 8082): "NASIKO_PORT_AUTH",
    ("chat-history", 8083): "NASIKO_PORT_CHAT_HISTORY",
    ("langtrace", 3000): "NASIKO_PORT_LANGTRACE",
    ("mongodb", 27017): "NASIKO_PORT_MONGODB",
    ("redis", 6379): "NASIKO_PORT_REDIS",
}

MIN_MEMORY_GIB = 2.0
MIN_MEMORY_GIB_OBSERVABILITY = 4.0


@dataclass(frozen=True)
class PortConflict:
    port: PublishedPort
    holder: str  # who holds it, as far as the OS or the engine tells

    def describe(self) -> str:
        setting = PORT_SETTINGS.get((self.port.service, self.port.target), "the port setting")
        return (f"port {self.port.port} on {self.port.host_ip} ({self.port.service}) is taken by {self.holder}; "
                f"stop it or set {setting}=<free port> in your env file")


def port_is_free(host_ip: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # TIME_WAIT leftovers must not count as taken; a listener still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host_ip, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_holder(port: int, client: docker.DockerClient | None = None) -> str:
    """Name whatever listens on `port`: a container if the engine publishes it, else a process."""
    if client is not None:
        # Summaries carry names and ports already: no per-container inspect to race with.
        for summary in client.api.containers():
            if any(p.get("PublicPort") == port for p in summary.get("Ports", [])):
                return f"container {summary['Names'][0].lstrip('/')}"
    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                try:
                    proc = psutil.Process(conn.pid)
                    cmd = " ".join(proc.cmdline()[:4]) or proc.name()
                except psutil.Error:
                    cmd = "?"
                return f"pid {conn.pid} ({cmd})"
    except psutil.AccessDenied:
        pass
    return "another process (the OS did not say which; try `sudo ss -ltnp`)"


def find_port_conflicts(compose: Compose, services: list[str], client: docker.DockerClient | None = None
                        ) -> list[PortConflict]:
    """Published ports of `services` that something other than this stack holds."""
    ours = _ports_published_by_project(client, compose.project) if client else set()
    conflicts = []
    for port in compose.config.published_ports(services):
        if (port.service, port.port) in ours:
            continue  # already ours: `up` on a running stack keeps it
        if not port_is_free(port.host_ip, port.port):
            conflicts.append(PortConflict(port, port_holder(port.port, client)))
    return conflicts


def _ports_published_by_project(client: docker.DockerClient, project: str) -> set[tuple[str, int]]:
    held = set()
    for container in containers_labelled(client, f"com.docker.compose.project={project}"):
        service = container.labels.get("com.docker.compose.service", "")
        for bindings in (container.ports or {}).values():
            for binding in bindings or []:
                held.add((service, int(binding["HostPort"])))
    return held


def check_ports(compose: Compose, services: list[str], client: docker.DockerClient | None) -> None:
    _refuse_shared_ports(compose, services)
    conflicts = find_port_conflicts(compose, services, client)
    if conflicts:
        lines = "\n".join(f"  - {c.describe()}" for c in conflicts)
        raise NasikoError(
            f"{len(conflicts)} port(s) the stack publishes are taken:\n{lines}",
            hint="free the ports, or move them with NASIKO_PORT_<NAME> settings (see .env.local.example)",
        )


def _refuse_shared_ports(compose: Compose, services: list[str]) -> None:
    """Two settings giving the same host port: Compose would start half the stack, then fail."""
    claimed: dict[int, PublishedPort] = {}
    for port in compose.config.published_ports(services):
        first = claimed.setdefault(port.port, port)
        if first is not port:
            names = [PORT_SETTINGS.get((p.service, p.target), p.service) for p in (first, port)]
            raise NasikoError(f"{names[0]} and {names[1]} both ask for port {port.port}",
                              hint="give each a port of its own in your env file")


def check_memory(client: docker.DockerClient, observability: bool) -> None:
    need = MIN_MEMORY_GIB_OBSERVABILITY if observability else MIN_MEMORY_GIB
    total = client.info().get("MemTotal", 0) / 2**30
    if total and total < need:
        raise NasikoError(
            f"the Docker engine has {total:.1f} GiB of memory; the stack needs at least {need:.0f} GiB",
            hint="give Docker more memory (Docker Desktop: Settings > Resources)"
            + (", or start with --dev to leave out observability" if observability else ""),
        )
