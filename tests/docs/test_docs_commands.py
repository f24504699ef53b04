"""Every command in the docs works as written.

Commands in ```bash blocks of docs/LOCAL_DEVELOPMENT.md (and the `run:` steps
of the example CI workflow) are checked against the real thing: invoke's own
parser and tasks.py, nox's session list, pytest's options, `docker X --help`,
files in the repository. Commands that are safe anywhere are run. Error
messages quoted in the troubleshooting section are reproduced and compared.
"""

import ast
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from invoke.parser import ParseError

from .doc_commands import (
    Command,
    check,
    code_blocks,
    commands_in,
    doc_commands,
    parse_invoke,
    task_collection,
)
from .envvars import ENV_EXAMPLE, ROOT

GUIDE = ROOT / "docs" / "LOCAL_DEVELOPMENT.md"
README = ROOT / "README.md"
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
INVOKE = [sys.executable, "-m", "invoke"]
# Rich wraps at 80 columns when not on a terminal; the guide quotes whole lines.
WIDE = {"COLUMNS": "250"}

GUIDE_COMMANDS = doc_commands(GUIDE)


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


requires_docker = pytest.mark.skipif(not _docker_answers(), reason="not run: no Docker engine answers here")


# --- the checker itself catches typos ----------------------------------------------------------

@pytest.mark.parametrize("line, complaint", [
    ("invoke upp", "No idea what 'upp'"),
    ("invoke up --no-biuld", "No idea what '--no-biuld'"),
    ("invoke logs nasiko-backend", "No idea what 'nasiko-backend'"),
    ("invoke shell", "did not receive required positional"),
    ("nox -s smok", "no nox session 'smok'"),
    ("nox -s tests -- --e2ee", "--e2ee"),
    ("pip install -r requirement.txt", "requirement.txt does not exist"),
    ("curl -s localhost:9999/agents", "not a port of the stack"),
    ("NASIKO_PORT_BAKEND=1 invoke status", "NASIKO_PORT_BAKEND"),
    ("scripts/ci/provison.sh", "does not exist"),
    ("kubectl get pods", "no checker for `kubectl`"),
])
def test_a_typo_in_a_doc_command_is_reported(line: str, complaint: str):
    problems = [check(command) for command in commands_in(line, "example")]
    assert any(p and complaint in p for p in problems), problems


def test_commands_are_split_at_shell_operators_and_continuations():
    text = "pip install -r requirements.txt && invoke up  # start\nA=1 invoke \\\n  status --json"
    assert [(c.env, c.argv) for c in commands_in(text, "x")] == [
        ({}, ["pip", "install", "-r", "requirements.txt"]),
        ({}, ["invoke", "up"]),
        ({"A": "1"}, ["invoke", "status", "--json"]),
    ]


# --- every command in the guide ----------------------------------------------------------------

def test_the_guide_has_commands_to_check():
    assert len(GUIDE_COMMANDS) >= 20


@pytest.mark.parametrize("command", GUIDE_COMMANDS, ids=str)
def test_guide_command_is_valid(command: Command):
    problem = check(command)
    assert problem is None, f"{command}\n  {problem}"


@pytest.mark.parametrize("command", [c for c in GUIDE_COMMANDS if c.argv[:1] == ["invoke"]
                                     and c.argv[1:2] in (["--list"], ["--help"])], ids=str)
def test_guide_invoke_help_commands_run(command: Command):
    result = subprocess.run([*INVOKE, *command.argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("command", [c for c in GUIDE_COMMANDS if c.argv[:1] == ["cp"]], ids=str)
def test_guide_copy_commands_run_in_a_scratch_copy(command: Command, tmp_path: Path):
    source, target = command.argv[-2], command.argv[-1]
    copy = shutil.copytree if (ROOT / source).is_dir() else shutil.copy2
    (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
    copy(ROOT / source, tmp_path / source)
    result = subprocess.run(command.argv, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / target).exists()


@requires_docker
@pytest.mark.parametrize("command", [c for c in GUIDE_COMMANDS if c.argv[:2] in (["docker", "images"],
                                                                                 ["docker", "system"])], ids=str)
def test_guide_read_only_docker_commands_run(command: Command):
    result = subprocess.run(command.argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_quick_start_commands_appear_verbatim_in_the_readme():
    guide = GUIDE.read_text()
    quick_start = guide[guide.index("## Quick start"):guide.index("\n## ", guide.index("## Quick start") + 1)]
    first_bash = next(b for b in code_blocks(GUIDE) if b.lang == "bash" and b.text in quick_start)
    readme = README.read_text()
    lines = [line for line in first_bash.text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 2, "the quick start is two commands"
    for line in lines:
        assert line in readme, f"README.md lacks the quick-start command {line!r}"


def test_env_snippets_in_the_guide_only_set_documented_settings():
    documented = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
                  if "=" in line and not line.startswith("#")}
    for block in code_blocks(GUIDE):
        if block.lang in ("ini", "dotenv", "env"):
            for line in block.text.splitlines():
                if line.strip() and not line.startswith("#"):
                    assert line.split("=", 1)[0] in documented, f"{GUIDE.name}:{block.line}: {line}"


def test_python_examples_compile_and_their_imports_resolve():
    blocks = [b for b in code_blocks(GUIDE) if b.lang == "python"]
    assert blocks, "the guide shows the Python API CI uses"
    for block in blocks:
        tree = ast.parse(block.text)
        imports = [node for node in tree.body if isinstance(node, ast.ImportFrom | ast.Import)]
        exec(compile(ast.Module(body=imports, type_ignores=[]), f"{GUIDE.name}:{block.line}", "exec"), {})


# --- the command reference covers every task and option ----------------------------------------

def _reference_row(task_name: str) -> str:
    rows = [line for line in GUIDE.read_text().splitlines() if line.startswith(f"| `{task_name}` |")]
    assert rows, f"the command table in {GUIDE.name} has no row for `{task_name}`"
    return rows[0]


@pytest.mark.parametrize("task_name", sorted(task_collection().task_names))
def test_command_reference_documents_every_option_of_the_task(task_name: str):
    row = _reference_row(task_name)
    context = next(c for c in task_collection().to_contexts() if c.name == task_name)
    missing = []
    for argument in context.args.values():
        if argument.name == "config":
            continue  # documented once for every task
        long = next((n for n in argument.names if len(n) > 1), None)
        flag = f"--{long.replace('_', '-')}" if long else f"-{argument.names[0]}"
        if flag not in row:
            missing.append(flag)
    assert not missing, f"`invoke {task_name}` has options the guide's table does not list: {', '.join(missing)}"


def test_every_task_takes_the_documented_config_option():
    for context in task_collection().to_contexts():
        assert "config" in context.args, f"{context.name} has no --config, but the guide says every task does"


# --- quoted failure messages are what the tasks print today ------------------------------------------

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


# --- the example CI workflow --------------------------------------------------------------------------

def _workflow_steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_example_workflow_runs_up_smoke_and_always_down():
    steps = _workflow_steps()
    runs = [step.get("run", "") for step in steps]
    order = [next(i for i, r in enumerate(runs) if needle in r)
             for needle in ("pip install -r requirements.txt", "invoke up", "nox -s smoke", "invoke down")]
    assert order == sorted(order), "install, up, smoke, down must run in this order"
    down = steps[order[-1]]
    assert "--volumes --yes" in down["run"] and down.get("if") == "always()"
    assert any("setup-python" in step.get("uses", "") for step in steps)


def test_example_workflow_keeps_the_smoke_report_even_when_smoke_fails():
    upload = next(s for s in _workflow_steps() if "upload-artifact" in s.get("uses", ""))
    assert upload.get("if") == "always()"
    assert upload["with"]["path"] == "reports/smoke.json"


@pytest.mark.parametrize("command", [c for step in _workflow_steps() if "run" in step
                                     for c in commands_in(step["run"], f"{WORKFLOW.name}:{step.get('name')}")],
                         ids=str)
def test_example_workflow_command_is_valid(command: Command):
    problem = check(command)
    assert problem is None, f"{command}\n  {problem}"


def test_the_guide_documents_the_example_workflow():
    assert str(WORKFLOW.relative_to(ROOT)) in GUIDE.read_text()
