"""Deploying into and removing from *this* stack: the deploy client
(nasiko_local/deploy.py) wired to the stack's resolved ports, its worker's
state and its worker's policy.

    result = deploy_to_stack(load_stack(), "crewai", on_event=print)
"""

from collections.abc import Callable
from pathlib import Path

from . import deploy, endpoints
from .errors import NasikoError
from .stack import ROOT, Stack, require_running, stale_settings, worker_allowed_unsafe


def _worker_check(project: Stack) -> Callable[[], None]:
    """Raises when the worker is down; the first call comes before the upload."""
    calls = []

    def check() -> None:
        calls.append(1)
        try:
            require_running(project, "nasiko-worker")
        except NasikoError as error:
            fate = ("nothing was sent" if len(calls) == 1
                    else "the deployment stays queued and runs once the worker is back")
            raise NasikoError(f"{error.message}; {fate}", hint=error.hint) from None

    return check


def deploy_to_stack(project: Stack, name: str, path: Path | str | None = None, *,
                    on_event: deploy.EventCallback | None = None, warn: Callable[[str], None] | None = None,
                    timeout: float = 1800) -> deploy.DeployResult:
    """Deploy `path` (default agents/NAME) as agent `name` and wait until it is ready."""
    changed = stale_settings(project, "nasiko-worker")
    if changed and warn:
        # Agents get their keys (OPENAI_API_KEY, ...) from the worker's environment.
        warn(f"the worker runs with older values of {', '.join(changed)}: agents get the old ones until "
             "`invoke restart --service nasiko-worker`")
    compose = project.compose
    return deploy.deploy_agent(
        name, path,
        backend_url=endpoints.backend_url(compose),
        gateway_url=endpoints.gateway_url(compose, display=True),
        registry_url=endpoints.service_url(compose, "kong-service-registry", display=True),
        agents_dir=ROOT / "agents", on_event=on_event, timeout=timeout,
        check_worker=_worker_check(project), allowed_unsafe=worker_allowed_unsafe(project),
    )


def remove_from_stack(project: Stack, name: str, *,
                      on_event: deploy.EventCallback | None = None) -> deploy.DeployResult:
    return deploy.remove_agent(name, backend_url=endpoints.backend_url(project.compose), on_event=on_event)
