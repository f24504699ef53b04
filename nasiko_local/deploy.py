"""Deploy client: an agent folder -> the backend -> the worker -> a running agent.

Plain functions for `invoke deploy-agent` / `invoke remove-agent`, nox and CI.
Nothing is printed here: progress goes to `on_event`, failures are raised as
NasikoError (message + hint).

    result = deploy_agent("crewai", on_event=show)    # folder: agents/crewai
    result.url             # "http://localhost:9100/crewai/" (the gateway route)
    result.duration_s      # wall time, validation to ready

The flow:

    validate the folder (same rules as the worker: orchestrator.validate)
    zip it, honouring .dockerignore (Docker's own matcher, as the worker hashes it)
    POST /api/v1/agents/upload  agent_name, file, deploy=true   -> upload_id
    GET  /api/v1/orchestration/events/{name}?after=..&wait=..  (long poll)
         ... until the event of kind "result" for this upload_id

Events passed to `on_event` are the worker's (`kind` stage|log|result, with
status, stage, message, timestamp, upload_id), preceded by two client-side
stage events (`stage` "validate" and "upload") so a progress display can start
at once.
"""

import io
import os
import stat
import time
import zipfile
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from orchestrator.compose_policy import UnsafeComposeKey, run_options
from orchestrator.context_hash import context_files
from orchestrator.validate import InvalidAgent, check_agent_name, validate_agent_folder

from .errors import NasikoError

DEFAULT_BACKEND_URL = "http://localhost:8000"
DEFAULT_GATEWAY_URL = "http://localhost:9100"
DEFAULT_REGISTRY_URL = "http://localhost:8080"
# Files the worker reads outside the build context: always uploaded, even when
# .dockerignore keeps them out of the image.
CONTRACT_FILES = ("Dockerfile", ".dockerignore", "AgentCard.json")
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml")
LOG_TAIL = 20
# The backend's defaults (MAX_UPLOAD_MB, MAX_UPLOAD_ENTRIES): checked here first,
# so a folder that would be refused is not zipped and sent at all.
DEFAULT_MAX_UPLOAD_BYTES = 100 * 2**20
DEFAULT_MAX_UPLOAD_ENTRIES = 1000
POLL_WAIT_SECONDS = 20

EventCallback = Callable[[dict], None]


@dataclass
class DeployResult:
    name: str
    status: str  # running | failed | removed | queued
    url: str = ""  # the agent's gateway URL
    registry_url: str = ""  # its entry in the service registry
    duration_s: float = 0.0
    image: str = ""
    message: str = ""
    upload_id: str = ""
    last_log_lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class DeployFailed(NasikoError):
    """The worker reported `failed`; `result` holds what is known (log tail included)."""

    def __init__(self, result: DeployResult) -> None:
        tail = "\n".join(f"    {line}" for line in result.last_log_lines)
        hint = "fix the agent and deploy again"
        if tail:
            hint = f"last build/run log lines:\n{tail}\n  {hint}"
        super().__init__(f"deployment of {result.name} failed: {result.message}", hint=hint)
        self.result = result


def _call(method: str, url: str, **kwargs) -> requests.Response:
    """One HTTP call to the backend; an unreachable backend means the stack is down."""
    try:
        return requests.request(method, url, **kwargs)
    except requests.ConnectionError as exc:
        raise NasikoError(
            f"the stack is not running: cannot reach the backend at {url.split('/api/')[0]}",
            hint="run `invoke up` (then `invoke status` to check it)",
        ) from exc
    except requests.Timeout as exc:
        raise NasikoError(
            f"the backend did not answer in time ({url})",
            hint="check it with `invoke status` and `invoke logs -s nasiko-backend`",
        ) from exc


def _refused(response: requests.Response, what: str) -> NasikoError:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    hints = {
        413: "leave generated folders (.venv, node_modules, data) out with .dockerignore",
        422: "rename the agent folder (or pass --name) to a valid agent name",
        400: "fix the agent folder as the message says",
        404: "check the agent name (`invoke status` lists deployed agents)",
    }
    hint = hints.get(response.status_code, "see `invoke logs -s nasiko-backend`")
    return NasikoError(f"{what} refused (HTTP {response.status_code}): {detail}", hint=hint)


def check_folder(name: str, folder: Path, *, allowed_unsafe: frozenset[str] = frozenset(),
                 max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, max_entries: int = DEFAULT_MAX_UPLOAD_ENTRIES) -> None:
    """Validate the folder as the backend and the worker will, before anything is sent:
    name, contract files, the compose policy, and the upload limits."""
    try:
        check_agent_name(name)
    except InvalidAgent as exc:
        raise NasikoError(f"invalid agent name: {exc}",
                          hint="pass --name with a DNS label: lowercase letters, digits and '-'") from exc
    try:
        compose = validate_agent_folder(folder, name)
        run_options(compose, name, folder, allowed_unsafe)
        files = context_files(folder)
    except UnsafeComposeKey as exc:
        raise NasikoError(f"refused by the worker's policy: {exc}",
                          hint="remove that key from the agent's docker-compose.yml") from exc
    except InvalidAgent as exc:
        hint = (f"fix that companion service in {folder / 'docker-compose.yml'} (docs/LOCAL_DEVELOPMENT.md, "
                "Writing an agent)" if "companion" in str(exc) else _fix_hint(folder))
        raise NasikoError(f"invalid agent folder: {exc}", hint=hint) from exc
    size = sum((folder / f).stat().st_size for f in files if (folder / f).is_file())
    if len(files) > max_entries or size > max_bytes:
        raise NasikoError(
            f"{folder} sends {len(files)} files, {size / 2**20:.0f} MB: more than the upload limits "
            f"({max_entries} files, {max_bytes / 2**20:.0f} MB)",
            hint="leave generated folders (.venv, node_modules, data) out with .dockerignore",
        )


def _fix_hint(folder: Path) -> str:
    return (
        f"fix {folder} (it needs a Dockerfile, an AgentCard.json with name, description, url, version,"
        " capabilities and skills, and a docker-compose.yml whose service is named after the agent)"
    )


def zip_agent_folder(folder: Path) -> tuple[bytes, int]:
    """The folder as a zip of what Docker would send (after .dockerignore) plus
    the contract files; returns (zip bytes, number of entries)."""
    files = set(context_files(folder)) | {f for f in CONTRACT_FILES + COMPOSE_FILES if (folder / f).exists()}
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in sorted(files):
            path = folder / relative
            if path.is_symlink():
                info = zipfile.ZipInfo(relative)
                info.create_system = 3  # Unix, so the link mode below is honoured
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, os.readlink(path))
            elif path.is_file():
                archive.write(path, relative)
            else:
                continue  # folders come with their files
            count += 1
    return buffer.getvalue(), count


def follow_events(
    backend_url: str,
    name: str,
    upload_id: str,
    *,
    on_event: EventCallback | None = None,
    timeout: float = 1800,
    log_tail: deque | None = None,
    finished: Callable[[], dict | None] | None = None,
    poll_wait: float = POLL_WAIT_SECONDS,
) -> dict:
    """Long-poll the agent's events until this deployment's `result`; returns it.

    `finished`, if given, is asked after every poll; a dict it returns ends the
    wait as if it were the result event (for outcomes seen elsewhere).
    """
    deadline = time.monotonic() + timeout
    after = "0"
    while time.monotonic() < deadline:
        wait = max(0.0, min(poll_wait, deadline - time.monotonic()))
        response = _call(
            "GET",
            f"{backend_url}/api/v1/orchestration/events/{name}",
            params={"after": after, "wait": wait},
            timeout=wait + 15,
        )
        if response.status_code != 200:
            raise _refused(response, "reading deployment events")
        body = response.json()
        after = body["last_id"]
        for event in body["events"]:
            if event.get("upload_id") != upload_id:
                continue  # an earlier deployment's events
            if log_tail is not None and event.get("kind") == "log":
                log_tail.append(event.get("message", ""))
            if on_event:
                on_event(event)
            if event.get("kind") == "result":
                return event
        outcome = finished() if finished else None
        if outcome is not None:
            return outcome
    raise NasikoError(
        f"no result for {name} after {timeout:.0f}s (deployment {upload_id})",
        hint="is the worker running? check `invoke status` and `invoke logs -s nasiko-worker`",
    )


def deploy_agent(
    name: str,
    path: Path | str | None = None,
    *,
    backend_url: str = DEFAULT_BACKEND_URL,
    gateway_url: str = DEFAULT_GATEWAY_URL,
    registry_url: str = DEFAULT_REGISTRY_URL,
    agents_dir: Path | str = "agents",
    on_event: EventCallback | None = None,
    timeout: float = 1800,
    check_worker: Callable[[], None] | None = None,
    allowed_unsafe: frozenset[str] = frozenset(),
) -> DeployResult:
    """Deploy the folder `path` (default `agents/NAME`) as agent `name`.

    Returns the result when the agent is running; raises DeployFailed when the
    worker reports a failure, NasikoError for anything the user must fix first.
    `check_worker`, if given, raises when the worker is down: it runs before
    the upload and between polls, so a dead worker ends the wait at once.
    """
    started = time.monotonic()
    backend_url = backend_url.rstrip("/")
    if path is not None and not str(path).strip():
        raise NasikoError("--path is empty", hint=f"name the agent folder, or leave --path out for agents/{name}")
    folder = Path(path) if path is not None else Path(agents_dir) / name

    def emit(stage: str, message: str) -> None:
        if on_event:
            on_event(
                {
                    "kind": "stage",
                    "status": "preparing",
                    "stage": stage,
                    "message": message,
                    "upload_id": "",
                    "timestamp": "",
                }
            )

    emit("validate", f"checking {folder}")
    check_folder(name, folder, allowed_unsafe=allowed_unsafe)
    if check_worker:
        check_worker()
    data, count = zip_agent_folder(folder)
    emit("upload", f"uploading {count} files ({len(data) / 1024:.0f} kB)")
    response = _call(
        "POST",
        f"{backend_url}/api/v1/agents/upload",
        data={"agent_name": name, "deploy": "true"},
        files={"file": (f"{name}.zip", data, "application/zip")},
        timeout=120,
    )
    if response.status_code not in (200, 201, 202):
        raise _refused(response, f"upload of {folder}")
    try:
        upload_id = response.json()["upload_id"]
    except (ValueError, KeyError, TypeError):
        raise NasikoError(
            f"{backend_url} answered the upload, but not as the Nasiko backend does (no upload_id)",
            hint="another program may hold the backend's port: check `invoke status` and NASIKO_PORT_BACKEND",
        ) from None

    tail: deque[str] = deque(maxlen=LOG_TAIL)
    def worker_gone() -> None:
        if check_worker:
            check_worker()
        return None

    outcome = follow_events(backend_url, name, upload_id, on_event=on_event, timeout=timeout, log_tail=tail,
                            finished=worker_gone, poll_wait=5 if check_worker else POLL_WAIT_SECONDS)
    status = _status(backend_url, name)
    result = DeployResult(
        name=name,
        status=outcome.get("status", "failed"),
        url=status.get("url") or f"{gateway_url.rstrip('/')}/{name}/",
        registry_url=f"{registry_url.rstrip('/')}/agents/{name}",
        duration_s=round(time.monotonic() - started, 2),
        image=status.get("image", ""),
        message=outcome.get("message", ""),
        upload_id=upload_id,
        last_log_lines=list(tail),
    )
    if result.status != "running":
        raise DeployFailed(result)
    return result


def _status(backend_url: str, name: str) -> dict:
    response = _call("GET", f"{backend_url}/api/v1/orchestration/status/{name}", timeout=10)
    return response.json() if response.status_code == 200 else {}


def remove_agent(
    name: str,
    *,
    backend_url: str = DEFAULT_BACKEND_URL,
    on_event: EventCallback | None = None,
    wait: bool = True,
    timeout: float = 120,
    purge_uploads: bool = False,
) -> DeployResult:
    """Remove agent `name`: its registry record at once, its container by the worker.

    With `wait`, follows the removal until the worker reports its result.
    """
    started = time.monotonic()
    backend_url = backend_url.rstrip("/")
    try:
        check_agent_name(name)
    except InvalidAgent as exc:
        raise NasikoError(str(exc), hint="give the agent's name as `invoke status` shows it") from exc
    response = _call(
        "DELETE",
        f"{backend_url}/api/v1/agents/{name}",
        params={"purge_uploads": str(purge_uploads).lower()},
        timeout=30,
    )
    if response.status_code != 202:
        raise _refused(response, f"removal of {name}")
    upload_id = response.json()["upload_id"]
    result = DeployResult(name=name, status="queued", upload_id=upload_id, message="removal queued")
    if wait:

        def gone() -> dict | None:
            # The worker deletes the status record when the container is gone;
            # a result event (if the worker sends one) ends the wait sooner.
            url = f"{backend_url}/api/v1/orchestration/status/{name}"
            if _call("GET", url, timeout=10).status_code == 404:
                return {"kind": "result", "status": "removed", "message": f"{name} removed"}
            return None

        outcome = follow_events(
            backend_url, name, upload_id, on_event=on_event, timeout=timeout, finished=gone, poll_wait=1
        )
        result.status, result.message = outcome.get("status", ""), outcome.get("message", "")
        if result.status == "failed":
            raise NasikoError(
                f"removal of {name} failed: {result.message}",
                hint="see `invoke logs -s nasiko-worker`; `invoke down` removes every agent",
            )
    result.duration_s = round(time.monotonic() - started, 2)
    return result
