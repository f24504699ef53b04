"""Reading commands out of Markdown, and checking each kind of command.

A doc command is one simple command of a ```bash block: lines joined at a
trailing backslash, comments dropped, split at `&&`, `||`, `;` and `|`, and
leading `VAR=value` assignments taken apart from the argv. Each checker says
what is wrong with a command, or nothing.
"""

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from invoke import Collection, Program
from invoke.parser import ParseError, Parser, ParserContext

from .envvars import ENV_EXAMPLE, ROOT, env_assignments

GUIDE = ROOT / "docs" / "LOCAL_DEVELOPMENT.md"
README = ROOT / "README.md"
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"

FENCE = re.compile(r"^```(\w*)\s*$")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
OPERATORS = {"&&", "||", ";", "|"}
# Variables a doc may set for one command although the env file does not hold
# them: they are read from the shell by Docker, Compose or the terminal.
SHELL_VARIABLES = {"DOCKER_HOST", "DOCKER_DEFAULT_PLATFORM", "COLUMNS"}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # line of the opening fence
    lang: str
    text: str


@dataclass
class Command:
    where: str  # "docs/X.md:LINE"
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        prefix = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{self.where}: {prefix + ' ' if prefix else ''}{shlex.join(self.argv)}"


def code_blocks(path: Path) -> list[Block]:
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line.strip())
        if lang is None and match:
            lang, start, body = match.group(1), number, []
        elif lang is not None and line.strip() == "```":
            blocks.append(Block(path, start, lang, "\n".join(body)))
            lang = None
        elif lang is not None:
            body.append(line)
    assert lang is None, f"{path}: code block opened at line {start} is never closed"
    return blocks


def commands_in(text: str, where: str) -> list[Command]:
    """The simple commands of a shell snippet, in order."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in OPERATORS:
                if words:
                    found.append(_command(words, where))
                words = []
            else:
                words.append(token)
    return found


def _command(words: list[str], where: str) -> Command:
    env = {}
    while words and ASSIGNMENT.match(words[0]):
        key, value = ASSIGNMENT.match(words[0]).groups()
        env[key] = value
        words = words[1:]
    return Command(where, words, env)


def doc_commands(path: Path) -> list[Command]:
    relative = path.relative_to(ROOT)
    return [command for block in code_blocks(path) if block.lang in ("bash", "sh", "shell")
            for command in commands_in(block.text, f"{relative}:{block.line}")]


# --- invoke -------------------------------------------------------------------------------

@cache
def task_collection() -> Collection:
    sys.path.insert(0, str(ROOT))
    import tasks  # the repository's tasks.py

    return Collection.from_module(tasks)


def parse_invoke(argv: list[str]):
    """invoke's own parse of `invoke ARGS` (ParseError on an unknown task or flag)."""
    parser = Parser(contexts=task_collection().to_contexts(),
                    initial=ParserContext(args=Program().core_args()))
    if argv[:1] == ["--help"] and len(argv) == 2:
        # `invoke --help TASK`: help takes an optional value, which the bare
        # parser calls ambiguous; invoke's Program resolves it to the task.
        if argv[1] not in task_collection().task_names:
            raise ParseError(f"No idea what {argv[1]!r} is!")
        return []
    return parser.parse_argv(argv)


def check_invoke(command: Command) -> str | None:
    try:
        parse_invoke(command.argv[1:])
    except ParseError as error:
        return f"invoke rejects it: {error}"
    return None


# --- nox ----------------------------------------------------------------------------------

@cache
def nox_sessions() -> frozenset[str]:
    result = subprocess.run([sys.executable, "-m", "nox", "-l", "-f", str(ROOT / "noxfile.py")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return frozenset(re.findall(r"^[*-] (\S+) ->", result.stdout, flags=re.MULTILINE))


def check_nox(command: Command) -> str | None:
    args = command.argv[1:]
    own, _, posargs = (args[: args.index("--")], None, args[args.index("--") + 1:]) if "--" in args \
        else (args, None, [])
    index, session = 0, None
    while index < len(own):
        word = own[index]
        if word in ("-s", "--session", "--sessions"):
            session = own[index + 1] if index + 1 < len(own) else ""
            if session not in nox_sessions():
                return f"no nox session {session!r} (sessions: {', '.join(sorted(nox_sessions()))})"
            index += 2
        elif word in ("-l", "--list"):
            index += 1
        else:
            return f"nox option {word!r} is not one the docs are checked for"
    # Arguments after `--` go to the smoke checklist's own parser, or to pytest.
    known, what = (smoke_options(), "smoke checklist") if session == "smoke" else (pytest_options(), "pytest")
    unknown = [a for a in posargs if a.startswith("--") and a not in known]
    return f"unknown {what} option(s) after --: {', '.join(unknown)}" if unknown else None


@cache
def smoke_options() -> frozenset[str]:
    result = subprocess.run([sys.executable, "-m", "nasiko_local.smoke", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return frozenset(re.findall(r"(--[a-z][a-z0-9-]*)", result.stdout))


@cache
def pytest_options() -> frozenset[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    return frozenset(re.findall(r"(--[a-z][a-z0-9-]*)", result.stdout))


# --- everything else ------------------------------------------------------------------------

def default_ports() -> set[int]:
    return {int(value) for _, name, value in env_assignments(ENV_EXAMPLE) if name.startswith("NASIKO_PORT_")}


# curl options whose next argument is their value, not a URL.
CURL_VALUE_OPTIONS = {"-H", "--header", "-d", "--data", "--data-raw", "--json", "-X", "--request", "-o", "--output"}


def check_curl(command: Command) -> str | None:
    urls, args = [], iter(command.argv[1:])
    for arg in args:
        if arg in CURL_VALUE_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            urls.append(arg)
    for url in urls:
        match = re.match(r"^(?:http://)?(localhost|127\.0\.0\.1):(\d+)(/\S*)?$", url)
        if not match:
            return f"{url!r} is not a URL on localhost"
        if int(match.group(2)) not in default_ports():
            return f"port {match.group(2)} in {url!r} is not a port of the stack"
    return None if urls else "curl without a URL"


def check_path_exists(path: str) -> str | None:
    return None if (ROOT / path).exists() else f"{path} does not exist in the repository"


def check_script(command: Command) -> str | None:
    script = command.argv[1] if command.argv[0] in ("bash", "sh") else command.argv[0]
    problem = check_path_exists(script.removeprefix("./"))
    if problem:
        return problem
    if command.argv[0] not in ("bash", "sh") and not (ROOT / script).stat().st_mode & 0o111:
        return f"{script} is not executable: run it with bash, or chmod +x it"
    return None


def check_pip(command: Command) -> str | None:
    args = command.argv[1:]
    if args[:2] != ["install", "-r"] or len(args) != 3:
        return "only `pip install -r FILE` is checked"
    return check_path_exists(args[2])


def check_python(command: Command) -> str | None:
    args = command.argv[1:]
    if args[:2] != ["-m", "pytest"]:
        return "only `python -m pytest PATH...` is checked"
    for arg in args[2:]:
        if not arg.startswith("-") and (problem := check_path_exists(arg.split("::")[0])):
            return problem
    return None


def check_export(command: Command) -> str | None:
    known = SHELL_VARIABLES | {name for _, name, _ in env_assignments(ENV_EXAMPLE)}
    for word in command.argv[1:]:
        name = word.split("=", 1)[0]
        if name not in known:
            return f"export of {name}, which neither the stack nor Docker reads"
    return None


def check_docker(command: Command) -> str | None:
    words = command.argv[1:]
    subcommand = [w for w in words[:2] if not w.startswith("-")]
    while subcommand:
        helped = subprocess.run(["docker", *subcommand, "--help"], capture_output=True, text=True, timeout=30)
        if helped.returncode == 0 and "Usage:" in helped.stdout:
            break
        subcommand = subcommand[:-1]
    if not subcommand:
        return f"docker has no command {' '.join(words[:2])!r}"
    flags = [w.split("=", 1)[0] for w in words if w.startswith("--")]
    missing = [f for f in flags if not re.search(rf"{re.escape(f)}\b", helped.stdout)]
    return f"`docker {' '.join(subcommand)}` has no option {', '.join(missing)}" if missing else None


CHECKERS = {
    "invoke": check_invoke,
    "nox": check_nox,
    "curl": check_curl,
    "pip": check_pip,
    "python": check_python,
    "export": check_export,
    "docker": check_docker,
    "bash": check_script,
    "sh": check_script,
    "cp": lambda c: check_path_exists(c.argv[-2]),
}


def check(command: Command) -> str | None:
    """What is wrong with one doc command, or None."""
    unknown_env = [k for k in command.env if k not in SHELL_VARIABLES | _example_names()]
    if unknown_env:
        return f"sets {', '.join(unknown_env)}, which neither the stack nor Docker reads"
    if not command.argv:
        return None
    name = command.argv[0]
    if name.startswith(("scripts/", "./scripts/")):
        return check_script(command)
    checker = CHECKERS.get(name)
    if checker is None:
        return f"no checker for `{name}`: add one to tests/docs/doc_commands.py, or move the line out of a bash block"
    return checker(command)


@cache
def _example_names() -> frozenset[str]:
    return frozenset(name for _, name, _ in env_assignments(ENV_EXAMPLE))


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


requires_docker = pytest.mark.skipif(not _docker_answers(), reason="not run: no Docker engine answers here")
