""".env.local.example is complete, not stale, and changes nothing when copied.

"Complete" is measured against what Compose really interpolates in
docker-compose.nasiko.yml, and the services' own settings classes are checked
against what Compose hands them, so a setting added in one place and
forgotten in the other fails here with the fix in the message.
"""

import functools
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .envvars import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    OFFLINE_ENV,
    ROOT,
    env_assignments,
    env_names,
    interpolated_variables,
)

# Variables the example may document although the compose file does not read
# them, because the task runner does. None today: DOCKER_HOST and COMPOSE_*
# are read from the shell, not from the env file (see docs, "Configuration").
READ_BY_TASK_RUNNER: set[str] = set()

SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD)$")


def _compose_v2() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


requires_compose = pytest.mark.skipif(
    not _compose_v2(), reason="not run: Compose v2 (`docker compose`) is not installed on this machine"
)


def _clean_environment() -> dict[str, str]:
    """The shell's environment without anything that would change interpolation."""
    ours = interpolated_variables() | env_names(ENV_EXAMPLE)
    return {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("COMPOSE_")}


@functools.cache
def compose_config(env_file: str) -> dict:
    """The resolved model, every profile on, exactly as Compose computes it."""
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "--env-file", env_file, "--profile", "*",
         "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, env=_clean_environment(), timeout=60,
    )
    assert result.returncode == 0, f"docker compose config --env-file {env_file} failed:\n{result.stderr}"
    return json.loads(result.stdout)


# --- the parser the other tests rely on ---------------------------------------------------

def test_variable_parser_reads_every_interpolation_form_and_skips_escaped_dollars(tmp_path: Path):
    compose = tmp_path / "compose.yml"
    compose.write_text(
        "# ${IN_A_COMMENT}\n"
        "services:\n"
        "  s:\n"
        "    image: ${IMAGE:-x}:${TAG-latest}\n"
        "    command: ['sh', '-c', 'echo $$HOME $BARE ${REQUIRED:?set it}']\n"
        "    environment:\n"
        "      A: prefix-${INNER}-suffix\n"
    )
    assert interpolated_variables(compose) == {"IMAGE", "TAG", "BARE", "REQUIRED", "INNER"}


# --- complete and not stale -----------------------------------------------------------------

def test_every_variable_the_compose_file_interpolates_is_in_the_example():
    missing = sorted(interpolated_variables() - env_names(ENV_EXAMPLE))
    assert not missing, (
        f"docker-compose.nasiko.yml reads {', '.join(missing)} but .env.local.example does not document "
        "them: add each with a one-line comment and the compose file's default"
    )


def test_every_variable_in_the_example_is_read_by_the_compose_file_or_the_task_runner():
    stale = sorted(env_names(ENV_EXAMPLE) - interpolated_variables() - READ_BY_TASK_RUNNER)
    assert not stale, (
        f".env.local.example sets {', '.join(stale)}, which nothing reads: remove them, or wire them "
        "into docker-compose.nasiko.yml"
    )


def test_the_example_sets_each_variable_once():
    names = [name for _, name, _ in env_assignments(ENV_EXAMPLE)]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_line_of_the_example_is_a_comment_a_setting_or_blank():
    setting = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$")
    bad = [f"line {number}: {line!r}"
           for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), start=1)
           if line.strip() and not line.startswith("#") and not setting.match(line)]
    assert not bad, "not KEY=VALUE (no spaces, no inline comments) or a comment:\n" + "\n".join(bad)


def test_every_setting_in_the_example_has_a_comment_above_it():
    lines = ENV_EXAMPLE.read_text().splitlines()
    # A setting may follow another setting (a group under one comment), but a
    # group must start right under a comment line.
    uncommented = [name for number, name, _ in env_assignments(ENV_EXAMPLE)
                   if number == 1 or not lines[number - 2].strip()]
    assert not uncommented, f"settings without a comment line above them: {', '.join(uncommented)}"


def test_secrets_are_empty_in_the_example():
    filled = [name for _, name, value in env_assignments(ENV_EXAMPLE) if SECRET_NAME.search(name) and value]
    assert not filled, f"the example must not carry secrets: empty {', '.join(filled)}"


def test_mongo_credentials_are_empty_in_the_example_and_the_offline_settings():
    # The offline MongoDB stand-in speaks no authentication: a user name makes
    # every service fail its MongoDB check ("'payload'" during the handshake).
    for path in (ENV_EXAMPLE, OFFLINE_ENV):
        values = {name: value for _, name, value in env_assignments(path)}
        assert values.get("MONGO_ROOT_USER") == "", f"{path.name}: MONGO_ROOT_USER must be empty"
        assert values.get("MONGO_ROOT_PASSWORD") == "", f"{path.name}: MONGO_ROOT_PASSWORD must be empty"


def test_offline_settings_only_set_variables_the_stack_reads():
    unknown = sorted(env_names(OFFLINE_ENV) - interpolated_variables() - READ_BY_TASK_RUNNER)
    assert not unknown, f"scripts/ci/offline.env sets {', '.join(unknown)}, which nothing reads"


# --- what Compose makes of it -------------------------------------------------------------------

@requires_compose
def test_compose_accepts_the_example():
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT, capture_output=True, text=True, env=_clean_environment(), timeout=60,
    )
    assert result.returncode == 0, result.stderr


@requires_compose
def test_copying_the_example_changes_nothing():
    with_example = compose_config(str(ENV_EXAMPLE))
    with_defaults = compose_config("/dev/null")
    if with_example != with_defaults:
        differences = [
            f"{name}: {json.dumps(with_example['services'].get(name), sort_keys=True)[:300]}"
            for name in sorted(set(with_example["services"]) | set(with_defaults["services"]))
            if with_example["services"].get(name) != with_defaults["services"].get(name)
        ]
        pytest.fail("values in .env.local.example differ from the compose file's defaults; services affected:\n"
                    + "\n".join(differences or ["(outside services: x-nasiko, networks or volumes)"]))


@requires_compose
def test_a_changed_value_in_a_copy_of_the_example_does_change_the_config(tmp_path: Path):
    # Guards the test above: it must be able to see a difference at all.
    copy = tmp_path / ".nasiko.env"
    copy.write_text(ENV_EXAMPLE.read_text().replace("NASIKO_PORT_BACKEND=8000", "NASIKO_PORT_BACKEND=18000"))
    ports = compose_config(str(copy))["services"]["nasiko-backend"]["ports"]
    assert [p["published"] for p in ports] == ["18000"]


# --- what the services read versus what Compose hands them -----------------------------------------

def _settings_classes() -> dict[str, list[type]]:
    """The settings class(es) each built service reads its environment with."""
    def module(name: str):
        return importlib.import_module(name)

    return {
        "nasiko-backend": [module("nasiko_backend.config").BackendSettings],
        "kong-service-registry": [module("nasiko_registry.settings").RegistrySettings],
        "nasiko-router": [type(module("nasiko_router.main").settings)],
        "nasiko-web": [type(module("nasiko_web.main").settings)],
        "nasiko-auth": [type(module("nasiko_auth.main").settings)],
        "chat-history": [type(module("nasiko_chat_history.main").settings)],
        "nasiko-worker": [module("orchestrator.config").WorkerSettings],
    }


# Read by the worker's health probe (orchestrator/healthcheck.py), not a settings class.
WORKER_PROBE_VARIABLES = {"WORKER_HEARTBEAT_FILE", "WORKER_HEARTBEAT_MAX_AGE"}

# Settings a service reads that the stack deliberately leaves at their default
# (not reachable from the env file). Each needs a reason; an entry that the
# compose file starts to set is stale and fails the test below.
INTERNAL = {
    "nasiko-backend": {
        "ALLOWED_AGENT_ROOTS": "upload-directory from extra host folders is for tests",
        "MAX_UPLOAD_ENTRIES": "fixed guard against zip bombs",
        "BACKEND_URL": "the default is the backend's own service name",
        "EVENTS_MAX_WAIT_SECONDS": "tied to the Redis socket timeout",
    },
    "kong-service-registry": {
        "REGISTRY_MIN_SYNC_INTERVAL_SECONDS": "tuning knob",
        "CARD_TIMEOUT_SECONDS": "tuning knob",
        "KONG_TIMEOUT_SECONDS": "tuning knob",
    },
    "nasiko-worker": {
        "WORKER_BLOCK_MS": "tuning knob",
        "WORKER_HEARTBEAT_FILE": "internal to the container",
        "WORKER_HEARTBEAT_MAX_AGE": "internal to the container",
        "WORKER_SHUTDOWN_GRACE_SECONDS": "bounded by the compose stop_grace_period",
    },
}

# Variables Compose hands a service that its settings do not read (yet).
NOT_READ_YET = {
    "nasiko-auth": {"AUTH_MODE", "AUTH_TOKEN_SECRET", "AUTH_TOKEN_TTL_SECONDS"},
    "nasiko-web": {"REGISTRY_URL", "CHAT_HISTORY_URL"},
}


def _reads(service: str, classes: list[type]) -> set[str]:
    names = {field.upper() for cls in classes for field in cls.model_fields}
    return names | (WORKER_PROBE_VARIABLES if service == "nasiko-worker" else set())


@requires_compose
def test_every_setting_a_service_reads_is_set_by_compose_or_listed_as_internal():
    services = compose_config("/dev/null")["services"]
    problems = []
    for service, classes in _settings_classes().items():
        given = set(services[service].get("environment") or {})
        internal = set(INTERNAL.get(service, {}))
        unexposed = sorted(_reads(service, classes) - given - internal)
        stale = sorted(internal & given)
        problems += [f"{service} reads {name}, but the compose file never sets it: add it to the service's "
                     "environment (and .env.local.example), or to INTERNAL here with the reason"
                     for name in unexposed]
        problems += [f"{service}: {name} is set by the compose file now; remove it from INTERNAL"
                     for name in stale]
    assert not problems, "\n".join(problems)


@requires_compose
def test_every_variable_compose_hands_a_service_is_read_by_it():
    services = compose_config("/dev/null")["services"]
    problems = []
    for service, classes in _settings_classes().items():
        given = set(services[service].get("environment") or {})
        unread = given - _reads(service, classes)
        expected = NOT_READ_YET.get(service, set())
        problems += [f"{service} is handed {name} but does not read it" for name in sorted(unread - expected)]
        problems += [f"{service} reads {name} now; remove it from NOT_READ_YET" for name in sorted(expected - unread)]
    assert not problems, "\n".join(problems)


@requires_compose
def test_every_service_that_names_agent_urls_follows_the_configured_kong_port(tmp_path: Path):
    moved = tmp_path / "moved.env"
    moved.write_text("NASIKO_PORT_KONG_PROXY=19100\n")
    services = compose_config(str(moved))["services"]
    urls = {name: services[name]["environment"].get("GATEWAY_PUBLIC_URL")
            for name in ("nasiko-backend", "kong-service-registry", "nasiko-worker")}
    assert urls == dict.fromkeys(urls, "http://localhost:19100")


@requires_compose
@pytest.mark.parametrize("shell_value, published", [("28000", "28000"), ("", "8000")])
def test_a_variable_exported_in_the_shell_wins_over_the_env_file(tmp_path: Path, shell_value: str, published: str):
    # As the guide says: the shell beats the file, and an empty export falls back to the default.
    env_file = tmp_path / "p.env"
    env_file.write_text("NASIKO_PORT_BACKEND=18000\n")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**_clean_environment(), "NASIKO_PORT_BACKEND": shell_value},
    )
    assert result.returncode == 0, result.stderr
    ports = json.loads(result.stdout)["services"]["nasiko-backend"]["ports"]
    assert [p["published"] for p in ports] == [published]
