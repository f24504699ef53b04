"""Every command in the docs works as written.

Commands in ```bash blocks of docs/LOCAL_DEVELOPMENT.md are checked against
the real thing: invoke's own parser and tasks.py, nox's session list, pytest's
and the smoke checklist's options, `docker X --help`, files in the
repository. Commands that are safe anywhere are run; those that need a live
stack run against one in tests/e2e/test_stack.py (GUIDE_LIVE_COMMANDS). The
command reference must list every option of every task. (Quoted error
messages: test_docs_messages.py; the example CI workflow: test_ci_workflow.py.)
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .doc_commands import (
    GUIDE,
    README,
    Command,
    check,
    code_blocks,
    commands_in,
    doc_commands,
    requires_docker,
    task_collection,
)
from .envvars import ENV_EXAMPLE, ROOT

INVOKE = [sys.executable, "-m", "invoke"]
GUIDE_COMMANDS = doc_commands(GUIDE)


# --- the checker itself catches typos ----------------------------------------------------------

@pytest.mark.parametrize("line, complaint", [
    ("invoke upp", "No idea what 'upp'"),
    ("invoke up --no-biuld", "No idea what '--no-biuld'"),
    ("invoke logs nasiko-backend", "No idea what 'nasiko-backend'"),
    ("invoke shell", "did not receive required positional"),
    ("nox -s smok", "no nox session 'smok'"),
    ("nox -s tests -- --e2ee", "--e2ee"),
    ("nox -s smoke -- --strat", "--strat"),
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


# --- commands quoted in the code's own messages ---------------------------------------------------------

def _quoted_in_code() -> list[str]:
    """`invoke ...` commands quoted in backticks in user-facing code (hints, docstrings)."""
    found = set()
    for folder in ("nasiko_local", "orchestrator", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"`(invoke [^`]*)`", path.read_text(encoding="utf-8")))
    found |= set(re.findall(r"`(invoke [^`]*)`", (ROOT / "tasks.py").read_text(encoding="utf-8")))
    return sorted(found)


@pytest.mark.parametrize("quoted", _quoted_in_code())
def test_invoke_commands_quoted_in_hints_parse(quoted: str):
    # Placeholders stand for a service name (`{service}`) or a task / agent name (TASK, NAME).
    concrete = re.sub(r"\{[^}]*\}", "nasiko-backend", quoted).replace("TASK", "up").replace("NAME", "crewai")
    (command,) = commands_in(concrete, "code")
    if len(command.argv) == 2 and command.argv[1] in task_collection().task_names:
        return  # a mention of the task itself ("`invoke deploy-agent` does ..."), not a command line
    problem = check(command)
    assert problem is None, f"{quoted!r}: {problem}"


def test_repository_paths_named_in_the_guide_exist():
    tops = ("agents/", "docs/", "scripts/", "services/", "orchestrator/", "nasiko_local/", "tests/", ".ci/")
    root_files = {".env.local.example", "docker-compose.nasiko.yml", "tasks.py", "noxfile.py", "requirements.txt",
                  "Dockerfile.worker", "README.md"}
    named = set(re.findall(r"`([^`\s]+)`", GUIDE.read_text()))
    paths = {n for n in named if (n.startswith(tops) or n in root_files) and not re.search(r"[A-Z]{3,}|<", n)}
    assert {"scripts/ci/provision.sh", "orchestrator/context_hash.py"} <= paths  # the filter finds paths at all
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"the guide names paths that do not exist: {', '.join(missing)}"
