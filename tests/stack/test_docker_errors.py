"""Docker missing, not running, not permitted, or Compose too old: one clear line each."""

import os
import stat
from pathlib import Path

import pytest

from nasiko_local import compose as compose_module
from nasiko_local.docker_api import _explain, docker_client, docker_host
from nasiko_local.errors import NasikoError


def test_docker_host_wins_over_the_active_context(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    assert docker_host() == "tcp://127.0.0.1:1"


def test_docker_context_variable_wins_over_the_config_file(monkeypatch, tmp_path):
    import docker

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    (tmp_path / "config.json").write_text("{}")  # contexts live beside the docker config file
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    docker.ContextAPI.create_context("nasiko-test-ctx", host="tcp://127.0.0.1:2")
    monkeypatch.setenv("DOCKER_CONTEXT", "nasiko-test-ctx")
    assert docker_host().endswith("://127.0.0.1:2")  # docker-py writes tcp:// hosts as https://
    monkeypatch.setenv("DOCKER_CONTEXT", "no-such-context")
    with pytest.raises(NasikoError, match="docker context 'no-such-context'"):
        docker_host()


def test_no_socket_means_docker_is_not_running_naming_the_socket(monkeypatch, tmp_path):
    socket = tmp_path / "docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    with pytest.raises(NasikoError) as error:
        docker_client()
    assert error.value.message == f"Docker is not running: no socket at {socket}"
    assert "start Docker" in error.value.hint


def test_permission_denied_names_the_socket_and_the_docker_group():
    error = _explain("unix:///var/run/docker.sock", PermissionError(13, "Permission denied"))
    assert error.message == "permission denied on the Docker socket /var/run/docker.sock"
    assert "docker group" in error.hint


def test_an_unreachable_tcp_engine_names_the_address(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    with pytest.raises(NasikoError, match=r"cannot reach the Docker engine at tcp://127\.0\.0\.1:1"):
        docker_client(timeout=2)


def test_a_docker_host_with_a_port_out_of_range_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://localhost:99999")
    with pytest.raises(NasikoError, match=r"cannot reach the Docker engine at tcp://localhost:99999"):
        docker_client(timeout=2)


def _fake_bin(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_compose_v1_only_is_named_with_how_to_get_v2(monkeypatch, tmp_path):
    _fake_bin(tmp_path, "docker", 'echo "docker: unknown command: docker compose" >&2; exit 1')
    _fake_bin(tmp_path, "docker-compose", 'echo "docker-compose version 1.29.2"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(NasikoError) as error:
        compose_module.compose_v2_version()
    assert "only Compose v1 (`docker-compose`) is installed" in error.value.message
    assert "Compose v2" in error.value.hint


def test_no_compose_at_all_says_to_install_the_plugin(monkeypatch, tmp_path):
    _fake_bin(tmp_path, "docker", "exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NasikoError, match="Compose v2 is not installed"):
        compose_module.compose_v2_version()


def test_every_task_not_just_up_names_compose_v1(monkeypatch, tmp_path):
    from nasiko_local.compose import Compose
    from nasiko_local.envfile import EnvChoice

    _fake_bin(tmp_path, "docker", "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1")
    _fake_bin(tmp_path, "docker-compose", 'echo "docker-compose version 1.29.2"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(NasikoError, match=r"only Compose v1 \(`docker-compose`\) is installed"):
        Compose(tmp_path, EnvChoice(None, "test")).config  # noqa: B018 - reading it runs Compose
