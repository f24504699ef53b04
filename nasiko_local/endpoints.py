"""Host URLs of the stack's services, from the ports Compose resolved.

A moved port (NASIKO_PORT_BACKEND=18000) moves every URL the tasks use.
"""

from .compose import Compose


def service_url(compose: Compose, service: str, *, display: bool = False) -> str:
    """`http://127.0.0.1:PORT` for calls; `display=True` says `localhost` for people."""
    ports = compose.config.published_ports([service])
    if not ports:
        raise KeyError(f"{service} publishes no port")
    port = ports[0]
    host = port.host_ip
    if host in ("127.0.0.1", "0.0.0.0"):
        # Calls go to the IPv4 loopback the port is bound on; `localhost` may try ::1 first.
        host = "localhost" if display else "127.0.0.1"
    return f"http://{host}:{port.port}"


def backend_url(compose: Compose) -> str:
    return service_url(compose, "nasiko-backend")


def registry_url(compose: Compose) -> str:
    return service_url(compose, "kong-service-registry")


def gateway_url(compose: Compose, *, display: bool = False) -> str:
    return service_url(compose, "kong", display=display)
