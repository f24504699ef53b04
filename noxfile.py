"""Test sessions. `nox -l` lists them; bare `nox` runs lint and tests.

    nox -s tests               unit tests (no Docker needed)
    nox -s tests -- --e2e      unit + end-to-end tests in a real Docker engine (what CI runs)
    nox -s smoke               the smoke checklist against a running stack
    nox -s bench               speed and memory benchmarks (ratios against baselines)
    nox -s lint                ruff

Arguments after `--` go to pytest, e.g. `nox -s tests -- -k env --e2e`.
"""

import nox

nox.needs_version = ">=2024.3.2"  # --reuse-venv and session.run_install
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

# The interpreter nox runs with (README: Python 3.11+), so no particular version must be installed.
PYTHON = None


def _pytest(session: nox.Session, *default_args: str) -> None:
    session.install("-r", "requirements-test.txt")
    session.run("pytest", *default_args, *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests; add `-- --e2e` for the end-to-end suite in a real Docker engine."""
    _pytest(session)


@nox.session(python=PYTHON)
def smoke(session: nox.Session) -> None:
    """The smoke checklist against a running stack (`-- --start` brings one up and down)."""
    session.install("-r", "requirements.txt")
    session.run("python", "-m", "nasiko_local.smoke", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: each figure printed with its ratio to a baseline measured in the same run."""
    _pytest(session, "tests/bench", "--bench", "-s")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Static checks (ruff)."""
    session.install("ruff==0.15.1")
    session.run("ruff", "check", ".")
