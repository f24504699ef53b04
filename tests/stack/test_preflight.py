"""Preflight names what blocks the start and how to unblock it."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasiko_local.compose import Compose
from nasiko_local.envfile import EnvChoice
from nasiko_local.errors import NasikoError
from nasiko_local.preflight import check_ports, port_holder, port_is_free
from tests.utils.redis_server import free_port

from .conftest import requires_compose

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def held_port():
    """A port held by a listening socket in another process, as a user's app would."""
    port = free_port()
    code = (f"import socket,time; s=socket.socket(); s.bind(('127.0.0.1',{port})); s.listen(); "
            "print('ready', flush=True); time.sleep(60)")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    yield port, process.pid
    process.kill()
    process.wait()


def test_a_free_port_is_free():
    assert port_is_free("127.0.0.1", free_port())


def test_a_listening_port_is_not_free(held_port):
    port, _ = held_port
    assert not port_is_free("127.0.0.1", port)


def test_a_port_in_time_wait_counts_as_free():
    """A just-stopped server leaves TIME_WAIT behind; Docker can bind there again."""
    server = socket.socket()
    # Servers (uvicorn, docker-proxy) set SO_REUSEADDR; Linux honours it only if both sides do.
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end lingers in TIME_WAIT
    client.close()
    server.close()
    time.sleep(0.05)
    assert port_is_free("127.0.0.1", port)


def test_the_holder_of_a_port_is_named_with_pid_and_command(held_port):
    port, pid = held_port
    holder = port_holder(port)
    assert f"pid {pid}" in holder
    assert "python" in holder


@requires_compose
def test_a_taken_port_is_reported_with_port_service_owner_and_setting(tmp_path: Path, held_port):
    port, pid = held_port
    env = tmp_path / "taken.env"
    env.write_text(f"NASIKO_PORT_BACKEND={port}\n")
    compose = Compose(ROOT, EnvChoice(env, "test"))
    with pytest.raises(NasikoError) as error:
        check_ports(compose, ["nasiko-backend"], client=None)
    message = error.value.message
    assert f"port {port} on 127.0.0.1 (nasiko-backend) is taken by pid {pid}" in message
    assert "NASIKO_PORT_BACKEND" in message


@requires_compose
def test_two_settings_asking_for_one_port_are_refused_before_anything_starts(tmp_path: Path):
    env = tmp_path / "same.env"
    env.write_text("NASIKO_PORT_WEB=38000\nNASIKO_PORT_BACKEND=38000\n")
    with pytest.raises(NasikoError) as error:
        check_ports(Compose(ROOT, EnvChoice(env, "test")), ["nasiko-backend", "nasiko-web"], client=None)
    assert "both ask for port 38000" in error.value.message
    assert "NASIKO_PORT_BACKEND" in error.value.message and "NASIKO_PORT_WEB" in error.value.message


@requires_compose
@pytest.mark.parametrize("value", ["0", "38000-38005"])
def test_a_port_setting_that_is_not_one_port_is_named(tmp_path: Path, value):
    env = tmp_path / "odd.env"
    env.write_text(f"NASIKO_PORT_BACKEND={value}\n")
    with pytest.raises(NasikoError, match="host port of nasiko-backend"):
        Compose(ROOT, EnvChoice(env, "test")).config.published_ports(["nasiko-backend"])


class EngineWithMemory:
    def __init__(self, gib: float) -> None:
        self.gib = gib

    def info(self) -> dict:
        return {"MemTotal": int(self.gib * 2**30)}


def test_an_engine_with_too_little_memory_is_refused_with_the_fix():
    from nasiko_local.preflight import check_memory

    with pytest.raises(NasikoError, match="has 1.9 GiB of memory; the stack needs at least") as error:
        check_memory(EngineWithMemory(1.9), observability=True)
    assert "Resources" in error.value.hint and "--dev" in error.value.hint
    check_memory(EngineWithMemory(64), observability=True)  # enough: nothing said
