"""The error messages the guide quotes are what the tasks print today.

Each failure is produced for real (a held port, a missing socket, a `docker`
without the Compose plugin, a broken env file) and every line printed must
appear verbatim in docs/LOCAL_DEVELOPMENT.md. Nothing here starts the stack:
`up` is only run where its preflight stops it.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from invoke.parser import ParseError

from nasiko_local import preflight, stack
from nasiko_local.errors import NasikoError
from tests.utils.redis_server import free_port

from .doc_commands import GUIDE, parse_invoke, requires_docker
from .envvars import ENV_EXAMPLE, ROOT

INVOKE = [sys.executable, "-m", "invoke"]
# Rich wraps at 80 columns when not on a terminal; the guide quotes whole lines.
WIDE = {"COLUMNS": "500"}


def _run_task(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    result = subprocess.run([*INVOKE, "-r", str(ROOT), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **WIDE, **(env or {})}, timeout=120)
    assert result.returncode == 1, f"expected exit 1 from invoke {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return [line for line in result.stderr.splitlines() if line.strip()]


def _assert_quoted(lines: list[str], *, replace: tuple[str, str] | None = None):
    guide = GUIDE.read_text()
    for line in lines:
        shown = line.replace(*replace) if replace else line
        assert shown in guide, f"the guide does not quote this line as the task prints it today:\n{shown}"


def test_guide_quotes_the_docker_not_running_message(tmp_path: Path):
    _assert_quoted(_run_task(["status"], tmp_path, {"DOCKER_HOST": "unix:///tmp/nope.sock"}))


@requires_docker
def test_guide_quotes_the_unknown_service_message(tmp_path: Path):
    _assert_quoted(_run_task(["logs", "-s", "nope"], tmp_path))


@requires_docker
def test_guide_quotes_the_malformed_env_file_message(tmp_path: Path):
    (tmp_path / "broken.env").write_text("NASIKO_PORT_BACKEND=8000\nNASIKO VERSION=1\n")
    lines = _run_task(["status", "--config", "broken.env"], tmp_path)
    _assert_quoted(lines, replace=(str(tmp_path.resolve()), "/tmp/docsdemo"))


@requires_docker
def test_guide_quotes_the_bad_on_off_setting_message(tmp_path: Path):
    (tmp_path / "maybe.env").write_text("NASIKO_GATEWAY=maybe\n")
    _assert_quoted(_run_task(["status", "--config", "maybe.env"], tmp_path))


def test_guide_quotes_the_missing_env_file_message(tmp_path: Path):
    _assert_quoted(_run_task(["status", "--config", "missing.env"], tmp_path))


@requires_docker
def test_guide_quotes_the_compose_v1_only_messages(tmp_path: Path):
    # A PATH whose `docker` has no Compose plugin and a `docker-compose` v1 beside it.
    real_docker = shutil.which("docker")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(
        "#!/bin/sh\n"
        "if [ \"$1\" = compose ]; then echo \"docker: 'compose' is not a docker command.\" >&2;"
        " echo \"See 'docker --help'\" >&2; exit 1; fi\n"
        f"exec {real_docker} \"$@\"\n")
    (bin_dir / "docker-compose").write_text("#!/bin/sh\necho 'docker-compose version 1.29.2'\n")
    for script in bin_dir.iterdir():
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    path = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    # `up` stops at its Compose check, before anything starts.
    _assert_quoted(_run_task(["up", "--config", str(ENV_EXAMPLE)], tmp_path, path))
    _assert_quoted(_run_task(["status"], tmp_path, path))


def test_documented_invoke_misuse_is_rejected_as_quoted():
    with pytest.raises(ParseError, match="No idea what 'redis' is!"):
        parse_invoke(["logs", "redis"])
    assert "No idea what 'redis' is!" in GUIDE.read_text()


@requires_docker
def test_guide_quotes_the_port_conflict_message_in_its_current_form(tmp_path: Path):
    # The preflight `invoke up` runs, on a held port; nothing is started.
    env = tmp_path / "moved.env"
    names = ["KONG_PROXY", "KONG_ADMIN", "BACKEND", "WEB", "REGISTRY", "ROUTER", "AUTH", "CHAT_HISTORY",
             "LANGTRACE", "MONGODB", "REDIS"]
    ports = {name: free_port() for name in names}
    env.write_text("".join(f"NASIKO_PORT_{name}={port}\n" for name, port in ports.items()))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["BACKEND"]))
        holder.listen(1)
        project = stack.load_stack(env)
        with pytest.raises(NasikoError) as raised:
            preflight.check_ports(project.compose, project.services, project.client)
    printed = [f"error: {raised.value.message}", f"hint: {raised.value.hint}"]
    guide = GUIDE.read_text()
    for line in "\n".join(printed).splitlines():
        pattern = re.escape(line).replace(str(ports["BACKEND"]), r"\d+")
        pattern = re.sub(r"pid\\ \d+\\ \\\(.*?\\\);", r"pid\\ \\d+\\ \\(.*\\);", pattern)
        assert re.search(pattern, guide), f"the guide does not quote this line in its current form:\n{line}"
