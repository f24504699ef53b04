"""The smoke checklist, run against a live stack (or one it starts with --start).

Each check is named and ends passed, failed or not-run, with a reason; a
not-run check is never counted as passed. The checks call the same functions
the invoke tasks call.

    python -m nasiko_local.smoke                 # against the running stack
    python -m nasiko_local.smoke --start         # bring a stack up, check, take it down
    nox -s smoke -- --start --config scripts/ci/offline.env

Writes a JSON report (default reports/smoke.json, schema nasiko.smoke/v1) and
exits 1 if any check failed.
"""

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import docker
import requests

from . import agents, deploy, images, stack
from .compose import compose_v2_version
from .containers import project_containers
from .endpoints import backend_url, gateway_url, registry_url
from .errors import NasikoError
from .reporter import SilentReporter

SCHEMA = "nasiko.smoke/v1"
PASSED, FAILED, NOT_RUN = "passed", "failed", "not-run"


class NotRun(Exception):
    """A check that cannot run here; the message says why."""


@dataclass
class CheckResult:
    name: str
    title: str
    outcome: str
    reason: str = ""
    duration_s: float = 0.0
    details: dict = field(default_factory=dict)


@dataclass
class SmokeReport:
    started_at: str
    checks: list[CheckResult]
    duration_s: float = 0.0
    env_file: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.checks if c.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.count(FAILED) == 0

    def to_json(self) -> dict:
        summary = {"passed": self.count(PASSED), "failed": self.count(FAILED), "not_run": self.count(NOT_RUN)}
        return {"schema": SCHEMA, "started_at": self.started_at, "duration_s": self.duration_s,
                "env_file": self.env_file,
                "ok": self.ok, "summary": summary, "checks": [asdict(c) for c in self.checks]}


class Checklist:
    """The checks, in the documented order; later ones use what earlier ones found."""

    def __init__(self, project: stack.Stack, *, start: bool = False, agent: str = "a2a-minimal",
                 agent_path: Path | None = None, on_result: Callable[[CheckResult], None] | None = None) -> None:
        self.stack = project
        self.start = start
        self.agent = agent
        self.agent_path = agent_path
        self.on_result = on_result
        self.results: dict[str, CheckResult] = {}
        self.deployed_here = False  # the test agent was not there before this run

    def checks(self) -> list[tuple[str, str, Callable[[], dict | None]]]:
        return [
            ("docker", "Docker and Compose v2 present", self.check_docker),
            ("images", "core images present or buildable", self.check_images),
            ("up", "`invoke up` leaves every service healthy" if self.start
             else "the running stack: every service healthy", self.check_up),
            ("status", "`invoke status` lists every service", self.check_status),
            ("logs", "`invoke logs -n 20 -s nasiko-backend` prints lines", self.check_logs),
            ("gateway-status", "gateway answers at :9100/status", self.check_gateway_status),
            ("backend", "backend answers at :8000/api/v1/healthcheck", self.check_backend),
            ("deploy", f"deploy the test agent {self.agent}", self.check_deploy),
            ("registry", "the agent appears in :8080/agents", self.check_registry),
            ("gateway-route", "the gateway routes :9100/<agent>/health", self.check_gateway_route),
            ("down", "`invoke down` removes the stack", self.check_down),
        ]

    def run(self) -> SmokeReport:
        started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.monotonic()
        for name, title, check in self.checks():
            begin = time.monotonic()
            try:
                details = check() or {}
                result = CheckResult(name, title, PASSED, details=details)
            except NotRun as reason:
                result = CheckResult(name, title, NOT_RUN, str(reason))
            except NasikoError as error:
                result = CheckResult(name, title, FAILED, str(error))
            except Exception as error:  # any surprise fails this check; the report is still written
                result = CheckResult(name, title, FAILED, f"{type(error).__name__}: {error}")
            result.duration_s = round(time.monotonic() - begin, 2)
            self.results[name] = result
            if self.on_result:
                self.on_result(result)
        self._leave_as_found()
        env_file = self.stack.compose.env.path if self.stack is not None else None
        return SmokeReport(started, list(self.results.values()), round(time.monotonic() - clock, 2),
                           env_file=str(env_file) if env_file else None)

    def _leave_as_found(self) -> None:
        """A test agent deployed into a stack that was already running is removed again."""
        if self.start or not self.deployed_here:
            return
        try:
            deploy.remove_agent(self.agent, backend_url=backend_url(self.stack.compose), timeout=60)
        except NasikoError as error:
            self.results["deploy"].details["cleanup"] = f"could not remove {self.agent}: {error.message}"

    # --- helpers -------------------------------------------------------------------

    def _needs(self, *names: str) -> None:
        for name in names:
            result = self.results.get(name)
            if result is None or result.outcome != PASSED:
                raise NotRun(f"needs check '{name}', which did not pass")

    def _needs_gateway(self) -> None:
        if "kong" not in self.stack.services:
            raise NotRun("no Kong image on this machine (NASIKO_GATEWAY=off): the gateway is not exercised")

    @staticmethod
    def _get(url: str) -> requests.Response:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}: {response.text[:300]}"
        return response

    # --- the checks ----------------------------------------------------------------

    def check_docker(self) -> dict:
        version = self.stack.client.version()
        left_out = self.stack.compose.left_out(self.stack.profiles)
        return {"engine": version.get("Version"), "api": version.get("ApiVersion"), "compose": compose_v2_version(),
                # Switched-off parts (Kong, LangTrace on a machine without their images) are never exercised.
                "not_exercised": left_out}

    def check_images(self) -> dict:
        config = self.stack.compose.config
        present, buildable, missing = [], [], []
        for service in self.stack.services:
            image = config.image(service)
            if images.image_present(self.stack.client, image):
                present.append(image)
            elif config.built_here(service):
                buildable.append(image)
            else:
                missing.append(image)
        assert not missing, f"third-party images missing (and not built here): {', '.join(missing)}"
        bases = sorted({config.build_arg(s, "PYTHON_IMAGE") for s in self.stack.services if config.built_here(s)}
                       - {None})
        for base in bases if buildable else []:  # a build needs its base: here, or pulled now
            if not images.image_present(self.stack.client, base):
                try:
                    self.stack.client.images.pull(base)
                except docker.errors.APIError as error:
                    raise NasikoError(f"{', '.join(buildable)} must be built, but the base image {base} is not here "
                                      f"and cannot be pulled ({error.explanation or error})",
                                      hint="offline: scripts/ci/provision.sh builds it") from error
        return {"present": present, "buildable": buildable, "bases": bases}

    def check_up(self) -> dict:
        if self.start:
            status = stack.up(self.stack, SilentReporter())
        else:
            if not project_containers(self.stack.client, self.stack.compose.project):
                raise NasikoError("the stack is not running", hint="start it with `invoke up`, or pass --start")
            status = stack.status(self.stack)
        unready = [f"{r.name} ({r.health or r.state})" for r in status.services
                   if r.state != "disabled" and not (r.state == "running" and r.health in (None, "healthy"))]
        assert not unready, f"not healthy: {', '.join(unready)}"
        return {"healthy": [r.name for r in status.services if r.health == "healthy"], "started": self.start}

    def check_status(self) -> dict:
        self._needs("up")
        status = stack.status(self.stack)
        listed = {r.name for r in status.services}
        assert set(self.stack.services) <= listed and status.all_ready
        return {"services": len(status.services), "agents": len(status.agents)}

    def check_logs(self) -> dict:
        self._needs("up")
        command = stack.logs_command(self.stack, ["nasiko-backend"], tail=20)
        output = subprocess.run(command, capture_output=True, text=True, timeout=60)
        lines = [line for line in output.stdout.splitlines() if line.strip()]
        assert output.returncode == 0 and lines, f"no log lines (exit {output.returncode}): {output.stderr[-300:]}"
        return {"lines": len(lines)}

    def check_gateway_status(self) -> dict:
        self._needs("up")
        self._needs_gateway()
        return {"status": self._get(f"{gateway_url(self.stack.compose)}/status").status_code}

    def check_backend(self) -> dict:
        self._needs("up")
        return self._get(f"{backend_url(self.stack.compose)}/api/v1/healthcheck").json()

    def check_deploy(self) -> dict:
        self._needs("up")
        self.deployed_here = self.agent not in {row.name for row in stack.status(self.stack).agents}
        result = agents.deploy_to_stack(self.stack, self.agent, self.agent_path, timeout=600)
        return {"status": result.status, "url": result.url, "image": result.image, "duration_s": result.duration_s}

    def check_registry(self) -> dict:
        self._needs("deploy")
        url = f"{registry_url(self.stack.compose)}/agents"
        deadline = time.monotonic() + 10
        while True:
            names = [a.get("name") for a in self._get(url).json()]
            if self.agent in names or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert self.agent in names, f"{self.agent} is not in {url} (found: {names})"
        return {"agents": names}

    def check_gateway_route(self) -> dict:
        self._needs("deploy")
        self._needs_gateway()
        return {"status": self._get(f"{gateway_url(self.stack.compose)}/{self.agent}/health").status_code}

    def check_down(self) -> dict:
        if not self.start:
            raise NotRun("the stack was running before the smoke run and is left as found "
                         "(pass --start to include down)")
        result = stack.down(self.stack, volumes=True)
        assert not result.leftovers, f"left behind: {', '.join(result.leftovers)}"
        return {"agents_removed": result.agents_removed}


MARKS = {PASSED: "[green]PASS[/]   ", FAILED: "[red]FAIL[/]   ", NOT_RUN: "[yellow]NOT RUN[/]"}


def print_check(check: CheckResult) -> None:
    """One line per check, printed as soon as it ends (the run takes a minute or two)."""
    from rich.markup import escape

    from .console import console

    reason = f"\n           [dim]{escape(check.reason)}[/]" if check.reason else ""
    console.print(f"{MARKS[check.outcome]} {check.name:<15} {escape(check.title)} "
                  f"[dim]({check.duration_s:.1f}s)[/]{reason}")


def print_summary(report: SmokeReport) -> None:
    from .console import console

    console.print(f"\nsmoke: {report.count(PASSED)} passed, {report.count(FAILED)} failed, "
                  f"{report.count(NOT_RUN)} not run ({report.duration_s:.0f}s)")
    left_out = next((c.details.get("not_exercised") for c in report.checks if c.name == "docker"), None)
    if left_out:
        console.print(f"not exercised (switched off in this configuration): {', '.join(left_out)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s smoke --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", action="store_true", help="bring the stack up first and down at the end")
    parser.add_argument("--config", help="env file (default: first of .nasiko.env, .nasiko-local.env, .env)")
    parser.add_argument("--agent", default="a2a-minimal", help="agent folder under agents/ to deploy")
    parser.add_argument("--report", default="reports/smoke.json", help="where to write the JSON report")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the summary")
    args = parser.parse_args(argv)
    try:
        project = stack.load_stack(args.config)
        project.compose.config  # noqa: B018 - fail early on a broken env file
    except NasikoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = Checklist(project, start=args.start, agent=args.agent, agent_path=stack.ROOT / "agents" / args.agent,
                       on_result=None if args.json else print_check).run()
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report.to_json(), indent=2))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print_summary(report)
        print(f"report: {args.report}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
