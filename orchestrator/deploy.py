"""One deployment, start to finish: folder -> validated -> image -> ready container.

    validating  (processing)  name, Dockerfile, AgentCard.json, compose policy, hash
    building    (building)    reuse the image for this hash, or build it
    starting    (starting)    keep the matching container, or replace it; wait until ready
    done        (running)     or failed, with the reason

A deployment that fails for a reason in the agent (invalid folder, build
error, crash at start) is an *outcome*: it is recorded as `failed` and the
command is acknowledged. Anything else (Redis or the engine unreachable) is
raised, so the consumer leaves the command pending and retries it.

`Deployer.deploy` is a plain function of (agent, folder, upload id) so tests
and the benchmark call it without a stream; `Deployer.handle` adapts it to
stream commands.
"""

import logging
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker
import redis

from . import status as status_mod
from .build_log import BuildFailed
from .builder import ImageBuilder
from .companions import CompanionRunner
from .compose_policy import run_options
from .config import WorkerSettings
from .consumer import PoisonMessage
from .context_hash import context_files, context_hash
from .readiness import wait_until_ready
from .runner import AGENT_PORT, AgentRunner, ContainerFailed
from .status import BackendCallback, DeploymentStatus
from .validate import InvalidAgent, check_agent_name, validate_agent_folder

log = logging.getLogger(__name__)


@dataclass
class DeployReport:
    """What one deployment did and how long each part took (seconds)."""

    agent_name: str
    status: str
    message: str = ""
    image: str = ""
    container_id: str = ""
    content_hash: str = ""
    built: bool = False
    container_kept: bool = False
    cached_steps: int = 0
    steps: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class Deployer:
    def __init__(self, settings: WorkerSettings, client: redis.Redis, engine: docker.DockerClient) -> None:
        self.settings = settings
        self.redis = client
        self.engine = engine
        self.builder = ImageBuilder(engine.api, settings)
        self.runner = AgentRunner(engine, settings.DOCKER_NETWORK)
        self.companions = CompanionRunner(self.runner)
        self.callback = BackendCallback(settings.BACKEND_URL)

    def close(self) -> None:
        self.callback.close()

    def handle(self, entry_id: str, fields: dict[str, str]) -> None:
        """Stream handler: run the command; raise only when it should be retried."""
        command = fields.get("command", "deploy_agent")
        agent_name = fields.get("agent_name", "")
        if command not in {"deploy_agent", "remove_agent"}:
            raise PoisonMessage(f"unknown command {command!r}: expected deploy_agent or remove_agent")
        try:
            check_agent_name(agent_name)
        except InvalidAgent as exc:
            raise PoisonMessage(f"invalid agent_name in command: {exc}") from exc
        upload_id = fields.get("upload_id") or uuid.uuid4().hex
        newer = self._newer_command(agent_name, entry_id)
        if newer is not None:
            # A command reclaimed late (its worker died) must not roll the agent
            # back over one that was sent after it and has already run.
            message = f"skipped: a newer command for {agent_name} ({newer}) already ran"
            DeploymentStatus(self.redis, agent_name, upload_id).superseded(message)
            log.info("command %s: %s", entry_id, message)
            return
        if command == "remove_agent":
            self.remove(agent_name)
            self.callback.send(agent_name, {"status": "removed", "stage": "removed", "message": f"{agent_name} removed",
                                            "url": "", "image": "", "container_id": "", "upload_id": upload_id})
            return
        self.deploy(agent_name, fields.get("agent_path", ""), upload_id)

    def _newer_command(self, agent_name: str, entry_id: str) -> str | None:
        """The id of a later command that already ran for this agent, else mark this one as latest."""
        key = status_mod.last_command_key(agent_name)
        latest = self.redis.get(key)
        if latest and _stream_order(latest) > _stream_order(entry_id):
            return latest
        self.redis.set(key, entry_id)
        return None

    def on_dead_letter(self, fields: dict[str, str], error: str) -> None:
        """Record the give-up as the deployment's outcome, if the command named a valid agent."""
        agent_name = fields.get("agent_name", "")
        try:
            check_agent_name(agent_name)
        except InvalidAgent:
            return
        status = DeploymentStatus(self.redis, agent_name, fields.get("upload_id", ""), self.callback)
        status.result("failed", f"gave up on this deployment: {error}")

    def remove(self, agent_name: str) -> bool:
        """Remove the agent's container and its status record; True if a container was removed."""
        removed = self.runner.remove(agent_name)
        self.companions.remove(agent_name)
        self.redis.delete(status_mod.status_key(agent_name))
        return removed

    def deploy(self, agent_name: str, agent_path: str, upload_id: str) -> DeployReport:
        report = DeployReport(agent_name=agent_name, status="processing")
        status = DeploymentStatus(self.redis, agent_name, upload_id, self.callback)
        started = time.monotonic()
        clock = _Clock(report)
        build_log = _LogTail(status.log)
        try:
            status.stage("processing", "validating", f"checking {agent_path or '(no path)'}")
            folder = self._folder(agent_path)
            compose = validate_agent_folder(folder, agent_name)
            options = run_options(compose, agent_name, folder, self.settings.allowed_unsafe_keys)
            for note in options.notes:
                status.log(note)
            files = context_files(folder)
            report.content_hash = context_hash(folder, files)
            clock.lap("validate")

            image = self.builder.ensure_image(
                agent_name,
                folder,
                files,
                report.content_hash,
                build_log.append,
                on_build_start=lambda ref: status.stage("building", "building", f"building image {ref}"),
            )
            report.image, report.built = image.ref, image.built
            report.steps, report.cached_steps = image.steps, image.cached_steps
            status_mod.count(self.redis, "builds" if image.built else "cache_hits")
            clock.lap("build")
            status.stage(
                "building",
                "built" if image.built else "reused",
                f"built {image.ref}" if image.built else f"reused {image.ref} (no build)",
                image=image.ref,
            )

            status.stage("starting", "starting", f"starting container {agent_name}")
            env = self._environment(agent_name, options.environment)
            card = folder / "AgentCard.json"
            own_network, stale = None, []
            if options.companions:
                try:
                    own_network, stale = self.companions.ensure(agent_name, options.companions,
                                                                self.settings.WORKER_READY_TIMEOUT_SECONDS,
                                                                on_wait=status.log)
                except ContainerFailed:
                    if self.runner.get(agent_name) is None:  # nothing running uses them: not left restarting
                        self.companions.remove(agent_name)
                    raise
            container, kept = self.runner.ensure_container(agent_name, image.ref, report.content_hash, env, options,
                                                           card_path=str(card) if card.is_file() else "",
                                                           also_on=own_network)
            report.container_id, report.container_kept = container.id, kept
            clock.lap("start")
            status.stage(
                "starting",
                "ready-check",
                "kept the running container" if kept else "container started",
                container_id=container.id,
            )
            try:
                wait_until_ready(
                    container,
                    self.settings.DOCKER_NETWORK,
                    self.settings.WORKER_READY_TIMEOUT_SECONDS,
                    on_wait=status.log,
                    fresh=True,
                )
            except ContainerFailed as failed:
                # A broken new version must not take a working one down with it.
                if self.runner.restore_previous(agent_name):
                    still = f"the previous version of {agent_name} is still running"
                    raise ContainerFailed(f"{failed}\n{still}") from failed
                self.runner.remove(agent_name)  # not left restarting forever
                self.companions.remove(agent_name)
                raise
            self.runner.discard_previous(agent_name)
            if not options.companions and not kept:
                # A kept container has no companion network (its spec says so): only a
                # replaced one can leave companions of an earlier version behind.
                stale = self.companions.existing(agent_name)
            if stale:  # the previous version's companions, now that it is gone
                self.companions.drop(agent_name, stale, keep_network=own_network is not None)
            clock.lap("ready")

            url = f"{self.settings.GATEWAY_PUBLIC_URL.rstrip('/')}/{agent_name}/"
            where = url if self.settings.gateway_on else (
                f"http://{agent_name}:{AGENT_PORT}/ on {self.settings.DOCKER_NETWORK} (gateway off: no {url} route)")
            report.status, report.message = "running", f"{agent_name} is running at {where}"
            status.result("running", report.message, url=url)
            status_mod.count(self.redis, "deployments_running")
        except BuildFailed as exc:
            report.status, report.message = "failed", f"the image build failed: {exc}{build_log.tail()}"
            status.result("failed", report.message)
            status_mod.count(self.redis, "deployments_failed")
        except (InvalidAgent, ContainerFailed, docker.errors.APIError) as exc:
            report.status, report.message = "failed", _reason(exc)
            status.result("failed", report.message)
            status_mod.count(self.redis, "deployments_failed")
        report.timings["total"] = time.monotonic() - started
        log.info(
            "deployment of %s: %s in %.2fs (%s)",
            agent_name,
            report.status,
            report.timings["total"],
            report.message.splitlines()[0] if report.message else "",
        )
        return report

    def _folder(self, agent_path: str) -> Path:
        if not agent_path:
            raise InvalidAgent("the command has no agent_path: deploy through the backend, which stores the sources")
        uploads = self.settings.UPLOADS_DIR.resolve()
        folder = Path(agent_path).resolve()
        if not folder.is_relative_to(uploads):
            raise InvalidAgent(
                f"agent_path {agent_path} is outside {uploads} (UPLOADS_DIR): the worker only builds "
                "sources stored by the backend"
            )
        return folder

    def _environment(self, agent_name: str, compose_env: dict[str, str]) -> dict[str, str]:
        """Compose environment + platform values; platform values win for the keys they set."""
        env = dict(compose_env)
        env.update(self.settings.runtime_secrets())
        if self.settings.instrumentation_enabled:
            # Standard OpenTelemetry variables: an agent that ships an OTel (or
            # LangTrace) SDK exports to the collector; others ignore them.
            env.update(
                {
                    # Images may ship with the SDK switched off (the sample crewai does).
                    "OTEL_SDK_DISABLED": "false",
                    "OTEL_SERVICE_NAME": agent_name,
                    "OTEL_EXPORTER_OTLP_ENDPOINT": self.settings.OTEL_EXPORTER_OTLP_ENDPOINT,
                    "OTEL_RESOURCE_ATTRIBUTES": f"nasiko.agent={agent_name}",
                }
            )
            if self.settings.LANGTRACE_API_KEY:
                env["LANGTRACE_API_KEY"] = self.settings.LANGTRACE_API_KEY
        return env


class _LogTail:
    """Forwards build-log lines and keeps the last few for the failure message."""

    def __init__(self, forward, keep: int = 12) -> None:
        self.forward = forward
        self.lines: deque[str] = deque(maxlen=keep)

    def append(self, line: str) -> None:
        self.lines.append(line)
        self.forward(line)

    def tail(self) -> str:
        return "\nlast build log lines:\n" + "\n".join(self.lines) if self.lines else ""


class _Clock:
    def __init__(self, report: DeployReport) -> None:
        self.report = report
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.report.timings[name] = now - self.last
        self.last = now


def _stream_order(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _reason(exc: Exception) -> str:
    if isinstance(exc, docker.errors.APIError):
        return f"the Docker engine refused: {exc.explanation or exc}"
    return str(exc)
