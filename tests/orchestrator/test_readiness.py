"""When an agent counts as ready: Docker's health check if it has one, else the
first of /health, the A2A card, the older card path that answers 2xx.

The container is a stand-in whose state each `reload()` advances; the agent
is a real HTTP server on 127.0.0.1."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestrator import readiness
from orchestrator.readiness import wait_until_ready
from orchestrator.runner import ContainerFailed

NETWORK = "nasiko-network"


class ScriptedContainer:
    """A container whose inspect results are played back one `reload()` at a time (the last one repeats)."""

    def __init__(self, *states: dict) -> None:
        self.name = "echo"
        self.states = list(states)
        self.reloads = 0
        self.attrs = self._attrs(self.states[0])

    def _attrs(self, state: dict) -> dict:
        return {"State": state, "RestartCount": 0,
                "NetworkSettings": {"Networks": {NETWORK: {"IPAddress": "127.0.0.1"}}}}

    def reload(self) -> None:
        self.reloads += 1
        self.attrs = self._attrs(self.states[min(self.reloads, len(self.states) - 1)])

    def logs(self, tail: int) -> bytes:
        return b"agent log line"


RUNNING = {"Status": "running", "Running": True}


def health(status: str) -> dict:
    return {**RUNNING, "Health": {"Status": status}}


@pytest.fixture
def agent(monkeypatch):
    """An HTTP agent on a free loopback port that answers 200 on the paths in `agent.paths`."""
    paths: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200 if self.path in paths else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(readiness, "AGENT_PORT", server.server_address[1])
    server.paths = paths
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("served, answered", [
    ({"/health", "/.well-known/agent-card.json"}, "/health"),
    ({"/.well-known/agent-card.json"}, "/.well-known/agent-card.json"),
    ({"/.well-known/agent.json"}, "/.well-known/agent.json"),
])
def test_without_a_health_check_the_first_path_that_answers_makes_it_ready(agent, served, answered):
    agent.paths.update(served)
    assert wait_until_ready(ScriptedContainer(RUNNING), NETWORK, timeout=5, poll_interval=0.01).endswith(answered)


def test_an_agent_that_answers_no_path_times_out_naming_the_paths_and_the_port(agent):
    with pytest.raises(ContainerFailed, match=r"not ready within 1s .*/health.*agent-card\.json.*0\.0\.0\.0"):
        wait_until_ready(ScriptedContainer(RUNNING), NETWORK, timeout=1, poll_interval=0.05)


def test_docker_health_check_decides_when_there_is_one(agent):
    agent.paths.add("/health")  # answering is not enough while Docker still says "starting"
    container = ScriptedContainer(health("starting"), health("starting"), health("healthy"))
    assert wait_until_ready(container, NETWORK, timeout=5, poll_interval=0.01) == "docker health check of echo"
    assert container.reloads == 2


def test_unhealthy_fails_at_once_with_the_last_log_lines(agent):
    container = ScriptedContainer(health("starting"), health("unhealthy"))
    with pytest.raises(ContainerFailed, match="health check reports unhealthy(.|\n)*agent log line"):
        wait_until_ready(container, NETWORK, timeout=30, poll_interval=0.01)


def test_an_agent_that_exits_fails_with_its_exit_code(agent):
    container = ScriptedContainer(RUNNING, {"Status": "exited", "Running": False, "ExitCode": 3})
    with pytest.raises(ContainerFailed, match="exited with code 3"):
        wait_until_ready(container, NETWORK, timeout=30, poll_interval=0.01)
