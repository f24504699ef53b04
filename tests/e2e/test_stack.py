"""The stack end to end, in order: up, every service healthy through its own
port on 127.0.0.1, status, restart of one service, logs, bad input, down.

Kong and LangTrace have no image on a machine without a registry; their checks
are reported as not run, never as passed.
"""

import contextlib
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import httpx
import pytest
import redis
from pymongo import MongoClient

from nasiko_local import deploy, endpoints, smoke
from nasiko_local import stack as nasiko
from nasiko_local.containers import agent_containers, project_containers
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter
from tests.e2e.agent_containers import send_message

pytestmark = pytest.mark.e2e

HTTP_HEALTH = {
    "nasiko-backend": "http://127.0.0.1:8000/api/v1/healthcheck",
    "kong-service-registry": "http://127.0.0.1:8080/health",
    "nasiko-router": "http://127.0.0.1:8081/health",
    "nasiko-auth": "http://127.0.0.1:8082/health",
    "chat-history": "http://127.0.0.1:8083/health",
    "nasiko-web": "http://127.0.0.1:4000/health",
}


LLM_STUB = f"nasiko-test-llm-stub-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def live(fresh_stack, stack_config, tmp_path_factory):
    """The stack, with agents' LLM pointed at a stub that test_crewai_* starts on the network."""
    env = tmp_path_factory.mktemp("stack") / "e2e.env"
    env.write_text((stack_config.read_text() if stack_config else "")
                   + f"\nOPENAI_API_KEY=sk-test-not-a-secret\nOPENAI_BASE_URL=http://{LLM_STUB}:8000/v1\n"
                   + "OPENAI_MODEL=stub-model\n")
    stack = nasiko.load_stack(env)
    reporter = SilentReporter()
    # build=True: the images must be this checkout's code, not whatever an
    # earlier run left under the same tag (unchanged layers come from cache).
    status = nasiko.up(stack, reporter, build=True, timeout=900)
    yield stack, status, reporter
    with contextlib.suppress(docker.errors.NotFound):
        stack.client.containers.get(LLM_STUB).remove(force=True)
    nasiko.down(stack, volumes=True)  # safety net if a test stopped early


@pytest.fixture(scope="module")
def stack_env(live):
    return live[0].compose.env.path


def invoke(*args: str, config) -> subprocess.CompletedProcess:
    """The task as a user runs it: a separate `invoke` process."""
    command = [sys.executable, "-m", "invoke", *args, *(["--config", str(config)] if config else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=1200)


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


def test_status_json_lists_every_service_with_the_v1_schema(live, stack_env):
    result = invoke("status", "--json", config=stack_env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "nasiko.status/v1"
    rows = {row["name"]: row for row in document["services"]}
    stack = live[0]
    assert set(rows) == set(stack.compose.config.services), "every service of the compose file is listed"
    assert {name for name, row in rows.items() if row["state"] == "disabled"} == set(
        stack.compose.left_out(stack.profiles))
    assert all(rows[name]["health"] == "healthy" for name in stack.services)
    assert rows["nasiko-backend"] | {"uptime_seconds": None} == {
        "name": "nasiko-backend", "kind": "service", "state": "running", "health": "healthy", "host_port": 8000,
        "url": "http://localhost:8000/docs", "image": "nasiko/nasiko-backend:latest", "uptime_seconds": None,
        "container": "nasiko-nasiko-backend-1"}
    assert document["all_ready"] is True


# --- agents through the stack -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _deploy(stack, name: str, events: list | None = None) -> deploy.DeployResult:
    return deploy.deploy_agent(name, ROOT / "agents" / name, backend_url=endpoints.backend_url(stack.compose),
                               on_event=events.append if events is not None else None, timeout=900)


def _agent_address(stack, name: str) -> str:
    container = stack.client.containers.get(name)
    return f"http://{container.attrs['NetworkSettings']['Networks']['nasiko-network']['IPAddress']}:5000"


def test_minimal_agent_deploys_onto_the_stack_network_with_its_labels(live):
    stack, _, _ = live
    result = _deploy(stack, "a2a-minimal")
    assert result.status == "running"
    assert result.url == "http://localhost:9100/a2a-minimal/"
    if "kong" not in stack.services:  # the worker's message gives the address that works
        assert "at http://a2a-minimal:5000/ on nasiko-network (gateway off" in result.message
    container = stack.client.containers.get("a2a-minimal")
    assert "nasiko-network" in container.attrs["NetworkSettings"]["Networks"]
    assert container.labels["nasiko.agent"] == "a2a-minimal"
    assert container.labels["nasiko.managed-by"] == "nasiko-worker"
    assert container.labels["nasiko.image"] == result.image
    card = httpx.get(f"{_agent_address(stack, 'a2a-minimal')}/.well-known/agent-card.json", timeout=5).json()
    assert card["name"] == "a2a-minimal"


def test_the_agent_appears_in_the_registry_within_two_seconds(live):
    stack, _, _ = live
    deadline = time.monotonic() + 2
    while True:
        agents = httpx.get(f"{endpoints.registry_url(stack.compose)}/agents", timeout=5).json()
        if any(a["name"] == "a2a-minimal" for a in agents) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [entry] = [a for a in agents if a["name"] == "a2a-minimal"]
    assert entry["url"] == "http://localhost:9100/a2a-minimal/"
    assert entry["upstream"] == "http://a2a-minimal:5000"
    assert entry["card"]["url"] == "http://localhost:9100/a2a-minimal/"


def test_the_backends_registry_record_points_at_the_gateway_not_a_container(live):
    stack, _, _ = live
    url = f"{endpoints.backend_url(stack.compose)}/api/v1/registries"
    deadline = time.monotonic() + 10  # the worker's callback is sent in the background
    while not (records := httpx.get(url, params={"name": "a2a-minimal"}, timeout=5).json()):
        assert time.monotonic() < deadline, "no registry record for a2a-minimal"
        time.sleep(0.2)
    [record] = records
    assert record["url"] == record["card"]["url"] == "http://localhost:9100/a2a-minimal/"
    assert record["status"] == "running" and record["image"].startswith("nasiko-agent/a2a-minimal:")


def test_redeploying_unchanged_sources_builds_nothing_and_keeps_one_container(live):
    stack, _, _ = live
    first_id = stack.client.containers.get("a2a-minimal").id
    events: list[dict] = []
    result = _deploy(stack, "a2a-minimal", events)
    assert result.status == "running"
    assert [e for e in events if e.get("kind") == "log"] == [], "no build log: nothing was built"
    assert stack.client.containers.get("a2a-minimal").id == first_id
    assert len(stack.client.containers.list(all=True, filters={"label": "nasiko.agent=a2a-minimal"})) == 1


def test_status_lists_the_agent_with_the_address_that_works(live):
    """The gateway URL when Kong runs; the address on the stack network when it does not."""
    stack, _, _ = live
    [agent] = [row for row in nasiko.status(stack).agents if row.name == "a2a-minimal"]
    url = "http://localhost:9100/a2a-minimal/" if "kong" in stack.services else "http://a2a-minimal:5000/"
    assert (agent.kind, agent.state, agent.url) == ("agent", "running", url)


# Guide commands that read or probe a live stack, run verbatim (cwd: the repo; the
# stack's own env file is found from its containers) with what they must print.
# The others are checked without running (tests/docs) or run by the tests above.
GUIDE_LIVE_COMMANDS = [
    ({}, "invoke status --json", 0, "nasiko.status/v1"),
    ({}, "invoke logs -s nasiko-backend -n 20", 0, "nasiko-backend"),
    ({}, "invoke shell nasiko-backend", 0, ""),
    ({}, "invoke logs -s nope", 1, "unknown service nope"),
    ({"DOCKER_HOST": "unix:///tmp/nope.sock"}, "invoke status", 1, "Docker is not running: no socket"),
    ({}, "curl -s localhost:9100/a2a-minimal/.well-known/agent-card.json", 0, '"name"'),
    ({}, "docker run --rm --network nasiko-network nasiko-offline/python:3.11-slim python3 -c 'import "
         "urllib.request; print(urllib.request.urlopen('\"'\"'http://a2a-minimal:5000/.well-known/agent-card.json"
         "'\"'\"').read().decode())'", 0, '"name":"a2a-minimal"'),
]


@pytest.mark.parametrize("env, line, code, expected", GUIDE_LIVE_COMMANDS, ids=[c[1][:60] for c in GUIDE_LIVE_COMMANDS])
def test_guide_command_runs_as_written_against_the_live_stack(live, env, line, code, expected):
    import os
    import shlex

    from tests.docs.doc_commands import GUIDE, doc_commands

    stack = live[0]
    argv = shlex.split(line)
    written = [c for c in doc_commands(GUIDE) if c.argv == argv and c.env == env]
    assert written, f"the guide no longer has `{line}`: update GUIDE_LIVE_COMMANDS"
    if ":9100" in line and "kong" not in stack.services:
        pytest.skip("not run: no Kong image on this machine (NASIKO_GATEWAY=off): the gateway URL is not exercised")
    if argv[0] == "docker" and "nasiko-offline/python:3.11-slim" in argv:
        try:
            stack.client.images.get("nasiko-offline/python:3.11-slim")
        except docker.errors.ImageNotFound:
            pytest.skip("not run: the offline base image is not on this machine")
    run = [sys.executable, "-m", *argv] if argv[0] == "invoke" else argv
    result = subprocess.run(run, cwd=ROOT, env={**os.environ, **env}, input="exit\n", capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == code, result.stdout + result.stderr
    assert expected in result.stdout + result.stderr


def test_smoke_checklist_passes_against_the_live_stack_and_says_what_it_could_not_run(live):
    stack, _, _ = live
    report = smoke.Checklist(stack, agent="a2a-minimal", agent_path=ROOT / "agents/a2a-minimal").run()
    outcomes = {check.name: check.outcome for check in report.checks}
    expected_not_run = {"down"} | ({"gateway-status", "gateway-route"} if "kong" not in stack.services else set())
    assert {n for n, o in outcomes.items() if o == "not-run"} == expected_not_run
    assert {n for n, o in outcomes.items() if o == "failed"} == set(), report.to_json()
    assert report.count("passed") == len(outcomes) - len(expected_not_run)


def test_crewai_deploys_with_invoke_and_answers_through_its_llm(live, stack_env):
    """`invoke deploy-agent --name crewai`, its LLM being the stub in tests/fixtures/llm_stub."""
    stack, _, _ = live
    stub_image, _ = stack.client.images.build(path=str(ROOT / "tests/fixtures/llm_stub"), network_mode="host",
                                              tag="nasiko-test/llm-stub:e2e", rm=True)
    stub = stack.client.containers.run(stub_image.id, name=LLM_STUB, detach=True, network="nasiko-network",
                                       labels={"nasiko.test": "llm-stub"})
    try:
        result = invoke("deploy-agent", "--name", "crewai", "--json", config=stack_env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        deployed = json.loads(result.stdout.strip().splitlines()[-1])
        assert deployed["status"] == "running" and deployed["url"] == "http://localhost:9100/crewai/"
        answer = send_message(_agent_address(stack, "crewai"), "What is the A2A protocol for?")
        [part] = answer["result"]["parts"]
        assert part["text"].startswith("[llm-stub] "), answer
    finally:
        stub.remove(force=True)


def test_remove_agent_removes_its_container_and_registry_entry(live, stack_env):
    stack, _, _ = live
    result = invoke("remove-agent", "--name", "a2a-minimal", config=stack_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stack.client.containers.list(all=True, filters={"label": "nasiko.agent=a2a-minimal"}) == []
    deadline = time.monotonic() + 5
    while any(a["name"] == "a2a-minimal" for a in httpx.get(f"{endpoints.registry_url(stack.compose)}/agents",
                                                              timeout=5).json()):
        assert time.monotonic() < deadline, "still listed 5 s after removal"
        time.sleep(0.2)
    records = f"{endpoints.backend_url(stack.compose)}/api/v1/registries"
    assert httpx.get(records, params={"name": "a2a-minimal"}, timeout=5).json() == [], "the backend's record is gone"


def test_deploy_with_the_worker_stopped_fails_at_once_and_says_so(live, stack_env):
    stack, _, _ = live
    worker = project_containers(stack.client, stack.compose.project)["nasiko-worker"]
    worker.stop(timeout=20)
    try:
        started = time.monotonic()
        result = invoke("deploy-agent", "--name", "a2a-minimal", config=stack_env)
        assert result.returncode == 1
        assert "nasiko-worker is not running (state: exited)" in result.stderr
        assert "nothing was sent" in result.stderr
        assert time.monotonic() - started < 30
    finally:
        nasiko.restart(stack, service="nasiko-worker")


def test_restart_recreates_only_the_named_service(live):
    stack, _, _ = live
    before = {name: c.id for name, c in project_containers(stack.client, stack.compose.project).items()}
    status = nasiko.restart(stack, service="nasiko-backend")
    after = {name: c.id for name, c in project_containers(stack.client, stack.compose.project).items()}
    assert after["nasiko-backend"] != before["nasiko-backend"]
    assert {k: v for k, v in after.items() if k != "nasiko-backend"} == \
        {k: v for k, v in before.items() if k != "nasiko-backend"}
    assert status.all_ready


def test_logs_tail_prints_the_last_lines_of_one_service(live, stack_env):
    result = invoke("logs", "-s", "redis", "-n", "5", config=stack_env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 5
    assert all(line.startswith("redis-1") for line in lines)
    assert "\x1b[" not in result.stdout, "no terminal control codes in a pipe"


def test_unknown_service_lists_the_valid_ones(live, stack_env):
    result = invoke("logs", "-s", "nope", config=stack_env)
    assert result.returncode == 1
    assert "unknown service nope" in result.stderr
    assert "nasiko-backend" in result.stderr


def test_up_refuses_a_port_another_program_holds(live, stack_env):
    """Port 8000 is the backend's; asking for it under another project name must fail clearly."""
    other = nasiko.load_stack(stack_env)
    other.compose.project = "nasiko-clash"
    with pytest.raises(NasikoError) as error:
        nasiko.check_machine(other, SilentReporter())
    expected = "port 8000 on 127.0.0.1 (nasiko-backend) is taken by container nasiko-nasiko-backend-1"
    assert expected in error.value.message


def test_down_with_volumes_leaves_no_container_network_or_volume(live, stack_env):
    stack, _, _ = live
    result = invoke("down", "--volumes", "--yes", config=stack_env)
    assert result.returncode == 0, result.stdout + result.stderr
    client = stack.client
    assert client.containers.list(all=True, filters={"label": "com.docker.compose.project=nasiko"}) == []
    assert agent_containers(client) == []
    assert [n.name for n in client.networks.list(names=["nasiko-network"])] == []
    assert client.volumes.list(filters={"label": "com.docker.compose.project=nasiko"}) == []


def test_shell_on_a_stopped_stack_says_to_start_it(live, stack_env):
    result = invoke("shell", "nasiko-backend", config=stack_env)
    assert result.returncode == 1
    assert "the stack is not running" in result.stderr and "invoke up" in result.stderr


@pytest.mark.parametrize("service", [None, ""])
def test_restart_on_a_stopped_stack_says_to_start_it_and_starts_nothing(live, stack_env, service):
    stack, _, _ = live
    args = ["restart"] if service is None else ["restart", "--service", service]
    result = invoke(*args, config=stack_env)
    assert result.returncode == 1
    assert ("the stack is not running" in result.stderr and "invoke up" in result.stderr) or (
        service == "" and "unknown service ''" in result.stderr), result.stderr
    assert project_containers(stack.client, stack.compose.project) == {}
    assert [n.name for n in stack.client.networks.list(names=["nasiko-network"])] == []


def test_an_image_name_that_is_not_valid_is_named_with_the_settings_that_make_it(live, tmp_path):
    from nasiko_local.images import image_present

    with pytest.raises(NasikoError, match="is not a valid image name") as error:
        image_present(live[0].client, "MyTeam/nasiko-backend:UPPER CASE")
    assert "NASIKO_REGISTRY_URL" in error.value.hint


def test_down_volumes_without_yes_and_without_a_terminal_refuses(live, stack_env):
    result = invoke("down", "--volumes", config=stack_env)
    assert result.returncode == 1
    assert "--yes" in result.stderr
