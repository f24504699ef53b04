"""The stack end to end, in order: up, every service healthy through its own
port on 127.0.0.1, status, restart of one service, logs, bad input, down.

Kong and LangTrace have no image on a machine without a registry; their checks
are reported as not run, never as passed.
"""

import json
import subprocess
import sys

import httpx
import pytest
import redis
from pymongo import MongoClient

from nasiko_local import stack as nasiko
from nasiko_local.containers import agent_containers, project_containers
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter

pytestmark = pytest.mark.e2e

HTTP_HEALTH = {
    "nasiko-backend": "http://127.0.0.1:8000/api/v1/healthcheck",
    "kong-service-registry": "http://127.0.0.1:8080/health",
    "nasiko-router": "http://127.0.0.1:8081/health",
    "nasiko-auth": "http://127.0.0.1:8082/health",
    "chat-history": "http://127.0.0.1:8083/health",
    "nasiko-web": "http://127.0.0.1:4000/health",
}


@pytest.fixture(scope="module")
def live(fresh_stack):
    reporter = SilentReporter()
    status = nasiko.up(fresh_stack, reporter, timeout=600)
    yield fresh_stack, status, reporter
    nasiko.down(fresh_stack, volumes=True)  # safety net if a test stopped early


def invoke(*args: str, config) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "invoke", *args, *(["--config", str(config)] if config else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_up_reports_every_enabled_service_healthy(live):
    stack, status, reporter = live
    assert status.all_ready
    ready = {row.name for row in status.services if row.health == "healthy"}
    assert set(stack.services) <= ready
    assert {"mongodb", "redis", "nasiko-worker", *HTTP_HEALTH} <= ready
    assert any(label == "healthy" for _, label, _ in reporter.transitions), "progress was reported"


@pytest.mark.parametrize("service", list(HTTP_HEALTH))
def test_service_is_healthy_through_its_own_endpoint(live, service):
    response = httpx.get(HTTP_HEALTH[service], timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("ok", "degraded")


def test_web_serves_its_page(live):
    response = httpx.get("http://127.0.0.1:4000/", timeout=10)
    assert response.status_code == 200 and "<h1>Nasiko</h1>" in response.text


def test_mongodb_answers_ping_on_loopback(live):
    assert MongoClient("mongodb://127.0.0.1:27017", serverSelectionTimeoutMS=5000).admin.command("ping")["ok"] == 1


def test_redis_answers_ping_and_persists_append_only(live):
    client = redis.Redis(port=6379)
    assert client.ping()
    assert client.config_get("appendonly") == {"appendonly": "yes"}


def test_ports_are_published_on_loopback_only(live):
    stack, _, _ = live
    for container in project_containers(stack.client, stack.compose.project).values():
        for bindings in (container.ports or {}).values():
            assert all(b["HostIp"] == "127.0.0.1" for b in bindings or []), container.name


def test_containers_and_network_carry_nasiko_labels(live):
    stack, _, _ = live
    for container in project_containers(stack.client, stack.compose.project).values():
        assert container.labels.get("nasiko.stack") == "true", container.name
    assert stack.client.networks.get("nasiko-network").attrs["Labels"].get("nasiko.stack") == "true"


def test_gateway_through_kong(live):
    stack, _, _ = live
    if "kong" not in stack.services:
        pytest.skip("not run: no Kong image on this machine (NASIKO_GATEWAY=off)")
    assert httpx.get("http://127.0.0.1:9100/status", timeout=10).status_code == 200


def test_status_json_lists_every_service_with_the_v1_schema(live, stack_config):
    result = invoke("status", "--json", config=stack_config)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "nasiko.status/v1"
    rows = {row["name"]: row for row in document["services"]}
    assert rows["nasiko-backend"] | {"uptime_seconds": None} == {
        "name": "nasiko-backend", "kind": "service", "state": "running", "health": "healthy", "host_port": 8000,
        "url": "http://localhost:8000/docs", "image": "nasiko/nasiko-backend:latest", "uptime_seconds": None,
        "container": "nasiko-nasiko-backend-1"}
    assert document["all_ready"] is True


def test_restart_recreates_only_the_named_service(live):
    stack, _, _ = live
    before = {name: c.id for name, c in project_containers(stack.client, stack.compose.project).items()}
    status = nasiko.restart(stack, service="nasiko-backend")
    after = {name: c.id for name, c in project_containers(stack.client, stack.compose.project).items()}
    assert after["nasiko-backend"] != before["nasiko-backend"]
    assert {k: v for k, v in after.items() if k != "nasiko-backend"} == \
        {k: v for k, v in before.items() if k != "nasiko-backend"}
    assert status.all_ready


def test_logs_tail_prints_the_last_lines_of_one_service(live, stack_config):
    result = invoke("logs", "-s", "redis", "-n", "5", config=stack_config)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 5
    assert all(line.startswith("redis-1") for line in lines)
    assert "\x1b[" not in result.stdout, "no terminal control codes in a pipe"


def test_unknown_service_lists_the_valid_ones(live, stack_config):
    result = invoke("logs", "-s", "nope", config=stack_config)
    assert result.returncode == 1
    assert "unknown service nope" in result.stderr
    assert "nasiko-backend" in result.stderr


def test_up_refuses_a_port_another_program_holds(live, tmp_path, stack_config):
    """Port 8000 is the backend's; asking for it under another project name must fail clearly."""
    stack, _, _ = live
    env = tmp_path / "clash.env"
    env.write_text((stack_config.read_text() if stack_config else "") + "\n")
    other = nasiko.load_stack(env)
    other.compose.project = "nasiko-clash"
    with pytest.raises(NasikoError) as error:
        nasiko.check_machine(other, SilentReporter())
    expected = "port 8000 on 127.0.0.1 (nasiko-backend) is taken by container nasiko-nasiko-backend-1"
    assert expected in error.value.message


def test_down_with_volumes_leaves_no_container_network_or_volume(live, stack_config):
    stack, _, _ = live
    result = invoke("down", "--volumes", "--yes", config=stack_config)
    assert result.returncode == 0, result.stdout + result.stderr
    client = stack.client
    assert client.containers.list(all=True, filters={"label": "com.docker.compose.project=nasiko"}) == []
    assert agent_containers(client) == []
    assert [n.name for n in client.networks.list(names=["nasiko-network"])] == []
    assert client.volumes.list(filters={"label": "com.docker.compose.project=nasiko"}) == []


def test_shell_on_a_stopped_stack_says_to_start_it(live, stack_config):
    result = invoke("shell", "nasiko-backend", config=stack_config)
    assert result.returncode == 1
    assert "the stack is not running" in result.stderr and "invoke up" in result.stderr


def test_down_volumes_without_yes_and_without_a_terminal_refuses(live, stack_config):
    result = invoke("down", "--volumes", config=stack_config)
    assert result.returncode == 1
    assert "--yes" in result.stderr
