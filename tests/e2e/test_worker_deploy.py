"""The worker against the real Docker engine: deploy, cache, rebuild, replace, fail clearly."""

import threading

import docker
import httpx
import pytest
import redis

from orchestrator.compose_policy import RunOptions
from orchestrator.deploy import Deployer
from orchestrator.readiness import agent_address
from orchestrator.runner import AgentRunner
from orchestrator.status import METRICS_KEY, status_key
from orchestrator.worker import docker_client, redis_client
from tests.orchestrator.commands import events_of, send_deploy, wait_result

# The fixtures (engine, agent_network, uploads, make_agent, worker_settings,
# start_worker) live with the other worker test helpers.
pytest_plugins = ["tests.orchestrator.agents"]

pytestmark = pytest.mark.e2e


@pytest.fixture
def deployer(worker_settings):
    client, docker_engine = redis_client(worker_settings), docker_client()
    deployer = Deployer(worker_settings, client, docker_engine)
    yield deployer
    deployer.close()
    client.close()
    docker_engine.close()


@pytest.fixture
def client(worker_settings):
    connection = redis.Redis.from_url(worker_settings.REDIS_URL, decode_responses=True)
    yield connection
    connection.close()


def agent_url(engine, name, network):
    return f"http://{agent_address(engine.containers.get(name), network)}:5000"


def test_deploy_through_the_stream_runs_the_agent_on_the_network_and_serves_its_card(
    make_agent, start_worker, client, engine, agent_network
):
    agent = make_agent()
    worker = start_worker()
    folder = agent.upload()
    upload_id = send_deploy(client, agent, folder)

    result = wait_result(client, agent.name, upload_id)

    assert result["status"] == "running", result["message"] + worker.log()
    status = client.hgetall(status_key(agent.name))
    assert status["status"] == "running" and status["upload_id"] == upload_id
    assert status["url"] == f"http://localhost:9100/{agent.name}/"
    container = engine.containers.get(agent.name)
    assert container.id == status["container_id"] and container.status == "running"
    assert agent_network in container.attrs["NetworkSettings"]["Networks"]
    assert container.labels["nasiko.agent"] == agent.name
    assert container.labels["nasiko.port"] == "5000"
    assert container.labels["nasiko.managed-by"] == "nasiko-worker"
    assert container.labels["nasiko.image"] == status["image"]
    # The registry's card fallback: the folder's AgentCard.json, inside the uploads folder.
    assert container.labels["nasiko.card-path"] == str(folder.resolve() / "AgentCard.json")
    assert status["image"].endswith(":" + container.labels["nasiko.content-hash"][:16])
    assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    base = agent_url(engine, agent.name, agent_network)
    assert httpx.get(f"{base}/.well-known/agent-card.json").json()["name"] == "tiny"
    # Runtime settings reach the agent; they are not part of the image.
    assert httpx.get(f"{base}/health").json()["model"] == "stub-model"
    assert "OPENAI_MODEL" not in str(engine.images.get(status["image"]).attrs["Config"]["Env"])
    kinds = [e["kind"] for e in events_of(client, agent.name, upload_id)]
    assert "log" in kinds and kinds[-1] == "result"
    assert client.xpending("orchestration:commands", "orchestrator")["pending"] == 0
    assert worker.alive()


def test_redeploying_unchanged_sources_builds_nothing_and_keeps_the_container(make_agent, deployer, client):
    agent = make_agent()
    first = deployer.deploy(agent.name, str(agent.upload()), "first")
    second = deployer.deploy(agent.name, str(agent.upload()), "second")  # same content, new upload folder

    assert first.status == second.status == "running"
    assert first.built and not second.built
    assert second.image == first.image and second.container_id == first.container_id and second.container_kept
    second_events = events_of(client, agent.name, "second")
    assert not [e for e in second_events if e["kind"] == "log" and e["message"].startswith("Step ")]
    assert any(e["stage"] == "reused" for e in second_events)
    assert client.hgetall(METRICS_KEY) == {"builds": "1", "cache_hits": "1", "deployments_running": "2"}


def test_a_source_only_change_rebuilds_reusing_the_dependency_layer(
    make_agent, deployer, client, engine, agent_network
):
    agent = make_agent()
    first = deployer.deploy(agent.name, str(agent.upload()), "first")
    changed = deployer.deploy(agent.name, str(agent.upload(greeting="changed greeting")), "changed")

    assert changed.status == "running" and changed.built and changed.image != first.image
    lines = [e["message"] for e in events_of(client, agent.name, "changed") if e["kind"] == "log"]
    pip_step = next(i for i, line in enumerate(lines) if "RUN pip install" in line)
    assert lines[pip_step + 1].strip().startswith("---> Using cache"), lines[pip_step : pip_step + 3]
    assert changed.container_id != first.container_id
    assert httpx.get(f"{agent_url(engine, agent.name, agent_network)}/health").json()["greeting"] == "changed greeting"


def test_ten_redeploys_in_a_row_give_ten_successes_and_one_container(make_agent, start_worker, client, engine):
    agent = make_agent()
    versions = [agent.upload(greeting="version a"), agent.upload(greeting="version b")]
    start_worker()
    # Alternating content: every deployment replaces the previous container.
    upload_ids = [send_deploy(client, agent, versions[i % 2]) for i in range(10)]

    results = [wait_result(client, agent.name, upload_id) for upload_id in upload_ids]

    assert [r["status"] for r in results] == ["running"] * 10, [r["message"] for r in results]
    assert len(engine.containers.list(all=True, filters={"label": f"nasiko.agent={agent.name}"})) == 1


def test_concurrent_replacements_tolerate_engine_races_and_leave_one_container(make_agent, deployer, engine):
    agent = make_agent()
    report = deployer.deploy(agent.name, str(agent.upload()), "base")
    runner = AgentRunner(engine, deployer.settings.DOCKER_NETWORK)
    errors = []

    def replace(index):
        try:  # distinct hashes: each call must replace whatever is there
            runner.ensure_container(agent.name, report.image, f"hash-{index}", {}, RunOptions())
        except Exception as exc:  # collected: an assert inside a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=replace, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    runner.discard_previous(agent.name)  # what the deployer does once the new one is ready

    assert errors == []
    assert len(engine.containers.list(all=True, filters={"label": f"nasiko.agent={agent.name}"})) == 1


def test_a_failing_build_step_fails_the_deployment_with_the_engine_message_and_caches_nothing(
    make_agent, deployer, engine
):
    agent = make_agent(extra_run=f"RUN echo {agent_marker()} && exit 3")
    report = deployer.deploy(agent.name, str(agent.upload()), "broken")

    assert report.status == "failed"
    assert "returned a non-zero code: 3" in report.message
    assert "last build log lines" in report.message and "exit 3" in report.message
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(deployer.builder.image_ref(agent.name, report.content_hash))
    assert engine.containers.list(all=True, filters={"label": f"nasiko.agent={agent.name}"}) == []


def test_an_agent_that_exits_at_start_fails_with_its_exit_code_and_last_log_lines(make_agent, deployer):
    agent = make_agent(command=["python", "-c", "import sys; print('cannot start: no config'); sys.exit(4)"])
    report = deployer.deploy(agent.name, str(agent.upload()), "crash")

    assert report.status == "failed"
    assert "exited with code 4" in report.message
    assert "cannot start: no config" in report.message


def test_an_invalid_folder_is_a_recorded_failure_not_a_retry(make_agent, deployer, client):
    agent = make_agent()
    folder = agent.upload()
    (folder / "AgentCard.json").write_text("{}")
    report = deployer.deploy(agent.name, str(folder), "invalid")

    assert report.status == "failed" and "lacks required AgentCard fields" in report.message
    assert client.hget(status_key(agent.name), "status") == "failed"


def test_sources_outside_the_uploads_folder_are_refused(make_agent, deployer, tmp_path):
    agent = make_agent()
    report = deployer.deploy(agent.name, str(tmp_path), "outside")
    assert report.status == "failed" and "outside" in report.message and "UPLOADS_DIR" in report.message


def agent_marker() -> str:
    import uuid

    return uuid.uuid4().hex


def test_a_command_reclaimed_after_a_newer_one_ran_does_not_roll_the_agent_back(make_agent, deployer, client):
    agent = make_agent()
    newer, older = agent.upload(greeting="newer"), agent.upload(greeting="older")
    base = {"command": "deploy_agent", "agent_name": agent.name}
    deployer.handle("2000-0", {**base, "agent_path": str(newer), "upload_id": "newer"})

    deployer.handle("1000-0", {**base, "agent_path": str(older), "upload_id": "older"})

    [result] = [e for e in events_of(client, agent.name, "older") if e["kind"] == "result"]
    assert "newer command" in result["message"] and "2000-0" in result["message"]
    status = client.hgetall(status_key(agent.name))
    assert status["status"] == "running" and status["upload_id"] == "newer"


def test_an_agent_name_that_is_an_id_prefix_of_another_container_never_touches_it(engine, agent_network):
    """The engine would resolve `3f2a9c` as an id prefix; the runner matches names exactly."""
    bystander = engine.containers.create("nasiko-offline/python:3.11-slim", command=["sleep", "60"],
                                         labels={"nasiko.test": "bystander"})
    try:
        prefix = bystander.id[:12]
        runner = AgentRunner(engine, agent_network)
        assert runner.remove(prefix) is False
        bystander.reload()
        assert bystander.status == "created", "the unrelated container is still there"
    finally:
        bystander.remove(force=True)


def test_an_existing_volume_that_is_not_the_agents_own_is_never_mounted(engine, agent_network):
    """An agent cannot name its way into another project's data (e.g. the stack's MongoDB volume)."""
    from orchestrator.runner import ContainerFailed

    foreign = engine.volumes.create(f"nasiko-agent.thief.data-{agent_network[-8:]}", labels={"nasiko.test": "foreign"})
    try:
        with pytest.raises(ContainerFailed, match="does not belong to agent 'thief'"):
            AgentRunner(engine, agent_network).ensure_volume(foreign.name, "thief")
    finally:
        foreign.remove(force=True)


def test_a_redeploy_that_fails_its_ready_check_leaves_the_previous_version_running(make_agent, deployer, engine):
    agent = make_agent()
    good = deployer.deploy(agent.name, str(agent.upload()), "good")
    assert good.status == "running"
    broken = agent.upload(greeting="broken")
    compose = (broken / "docker-compose.yml").read_text() + '    command: ["python", "-c", "raise SystemExit(4)"]\n'
    (broken / "docker-compose.yml").write_text(compose)

    failed = deployer.deploy(agent.name, str(broken), "broken")

    assert failed.status == "failed"
    assert "exited with code 4" in failed.message
    assert f"the previous version of {agent.name} is still running" in failed.message
    [container] = engine.containers.list(all=True, filters={"label": f"nasiko.agent={agent.name}"})
    assert (container.name, container.id, container.status) == (agent.name, good.container_id, "running")


def _redis_image(engine) -> str:
    """A Redis image this engine has: the offline stand-in here, the real one where it can be pulled."""
    try:
        engine.images.get("nasiko-offline/redis:7")
        return "nasiko-offline/redis:7"
    except docker.errors.ImageNotFound:
        return "redis:7-alpine"


def test_companion_services_run_beside_the_agent_on_its_own_network_and_go_with_it(
    make_agent, deployer, engine, agent_network
):
    agent = make_agent()
    image = _redis_image(engine)

    def upload():
        folder = agent.upload()
        compose = folder / "docker-compose.yml"
        compose.write_text(compose.read_text() + f"  cache:\n    image: {image}\n")
        return str(folder)

    first = deployer.deploy(agent.name, upload(), "first")
    assert first.status == "running", first.message
    companion = engine.containers.get(f"{agent.name}.cache")
    assert companion.labels["nasiko.companion-of"] == agent.name and "nasiko.agent" not in companion.labels
    networks = companion.attrs["NetworkSettings"]["Networks"]
    assert list(networks) == [f"nasiko-agent.{agent.name}"], "companions stay off the platform network"
    # The agent reaches its companion by the service name.
    reach = "import socket; socket.create_connection(('cache', 6379), 5); print('reached')"
    exit_code, output = engine.containers.get(agent.name).exec_run(["python3", "-c", reach])
    assert (exit_code, output.strip()) == (0, b"reached"), output

    second = deployer.deploy(agent.name, upload(), "second")
    assert second.status == "running" and second.container_kept
    assert engine.containers.get(f"{agent.name}.cache").id == companion.id, "an unchanged companion is kept"

    deployer.remove(agent.name)
    assert engine.containers.list(all=True, filters={"label": f"nasiko.companion-of={agent.name}"}) == []
    assert engine.networks.list(names=[f"nasiko-agent.{agent.name}"]) == []


def test_a_redeploy_keeps_the_running_companions_until_the_new_version_is_ready(make_agent, deployer, engine):
    agent = make_agent()

    def upload(companions: str) -> str:
        folder = agent.upload()
        compose = folder / "docker-compose.yml"
        compose.write_text(compose.read_text() + companions)
        return str(folder)

    cache = f"  cache:\n    image: {_redis_image(engine)}\n"
    assert deployer.deploy(agent.name, upload(cache), "first").status == "running"
    companion = engine.containers.get(f"{agent.name}.cache")

    # An image that cannot be had (a registry on a closed loopback port) fails before anything is replaced.
    missing = "  db:\n    image: 127.0.0.1:1/nasiko-test/missing:1\n"
    failed = deployer.deploy(agent.name, upload(cache + missing), "missing-image")
    assert failed.status == "failed" and "cannot be pulled" in failed.message
    assert engine.containers.get(f"{agent.name}.cache").id == companion.id
    assert engine.containers.get(agent.name).status == "running"

    # Dropping the companion: gone once the new version is ready, with its network.
    assert deployer.deploy(agent.name, upload(""), "without").status == "running"
    assert engine.containers.list(all=True, filters={"label": f"nasiko.companion-of={agent.name}"}) == []
    assert engine.networks.list(names=[f"nasiko-agent.{agent.name}"]) == []
    deployer.remove(agent.name)
    assert engine.containers.list(all=True, filters={"label": f"nasiko.companion-of={agent.name}"}) == []
    assert engine.networks.list(names=[f"nasiko-agent.{agent.name}"]) == []


def test_a_companion_that_exits_fails_the_deployment_with_its_logs(make_agent, deployer, engine):
    agent = make_agent()
    folder = agent.upload()
    compose = folder / "docker-compose.yml"
    broken = f"  db:\n    image: {_redis_image(engine)}\n    command: [\"sh\", \"-c\", \"echo no config; exit 4\"]\n"
    compose.write_text(compose.read_text() + broken)

    report = deployer.deploy(agent.name, str(folder), "broken")

    assert report.status == "failed"
    assert "companion db exited with code 4" in report.message and "no config" in report.message
