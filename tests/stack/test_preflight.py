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
