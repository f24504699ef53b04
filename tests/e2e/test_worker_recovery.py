"""The worker process under failure: killed mid-build, poison messages, SIGTERM."""

import subprocess
import sys
import time
import uuid

import pytest
import redis

from orchestrator.consumer import DEAD_LETTER_STREAM, GROUP, STREAM
from tests.orchestrator.commands import events_of, send_deploy, wait_result

# The fixtures (engine, agent_network, uploads, make_agent, worker_settings,
# start_worker) live with the other worker test helpers.
pytest_plugins = ["tests.orchestrator.agents"]

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(worker_settings):
    connection = redis.Redis.from_url(worker_settings.REDIS_URL, decode_responses=True)
    yield connection
    connection.close()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_build_finishes_the_job_exactly_once_after_restart(
    make_agent, start_worker, client, engine
):
    # A step that is slow and never cached, so the kill lands inside the build.
    agent = make_agent(extra_run=f"RUN echo {uuid.uuid4().hex} && sleep 8")
    worker = start_worker()
    upload_id = send_deploy(client, agent, agent.upload())
    wait_for(
        lambda: any("sleep 8" in e["message"] for e in events_of(client, agent.name, upload_id)),
        120,
        "the slow build step to start",
    )

    worker.kill()  # SIGKILL: no chance to clean up or ack

    assert client.xpending(STREAM, GROUP)["pending"] == 1
    assert not [e for e in events_of(client, agent.name, upload_id) if e["kind"] == "result"]
    restarted = start_worker()  # same consumer name: it re-reads its own pending entry first
    result = wait_result(client, agent.name, upload_id)
    wait_for(lambda: client.xpending(STREAM, GROUP)["pending"] == 0, 10, "the ack")
    time.sleep(1)

    assert result["status"] == "running", result["message"] + restarted.log()
    assert len([e for e in events_of(client, agent.name, upload_id) if e["kind"] == "result"]) == 1
    assert len(engine.containers.list(all=True, filters={"label": f"nasiko.agent={agent.name}"})) == 1
    assert client.xlen(DEAD_LETTER_STREAM) == 0


def test_a_poison_message_goes_to_the_dead_letter_stream_and_the_worker_stays_alive(make_agent, start_worker, client):
    worker = start_worker()
    client.xadd(STREAM, {"command": "deploy_agent", "agent_name": "Not A Valid Name!", "agent_path": "/x"})
    client.xadd(STREAM, {"command": "launch_missiles", "agent_name": "tiny"})
    wait_for(lambda: client.xlen(DEAD_LETTER_STREAM) == 2, 30, "two dead letters")

    # Concurrent handling: the two may reach the dead-letter stream in either order.
    errors = sorted(fields["error"] for _, fields in client.xrange(DEAD_LETTER_STREAM))
    assert any("not a valid DNS label" in error for error in errors), errors
    assert any("unknown command 'launch_missiles'" in error for error in errors), errors
    assert worker.alive()
    agent = make_agent()  # and it still deploys
    upload_id = send_deploy(client, agent, agent.upload())
    assert wait_result(client, agent.name, upload_id)["status"] == "running"
    assert client.xpending(STREAM, GROUP)["pending"] == 0


def test_sigterm_stops_the_worker_cleanly_and_its_heartbeat_is_fresh_while_it_runs(start_worker, worker_settings):
    worker = start_worker()
    heartbeat = worker_settings.WORKER_HEARTBEAT_FILE
    wait_for(heartbeat.exists, 30, "the first heartbeat")
    probe = subprocess.run(
        [sys.executable, "-m", "orchestrator.healthcheck"],
        env={**worker.environment(), "WORKER_HEARTBEAT_FILE": str(heartbeat)},
        cwd=worker.log_path.parent,
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stdout

    assert worker.stop(timeout=20) == 0
    assert "worker stopped" in worker.log()


def test_at_start_an_agent_recorded_running_without_a_container_is_marked_gone(client, engine):
    """Redis outlives `invoke down`; containers do not. The record must not keep saying running."""
    from orchestrator.reconcile import reconcile_statuses
    from orchestrator.status import status_key

    client.hset(status_key("vanished-agent"), mapping={
        "agent_name": "vanished-agent", "status": "running", "stage": "done", "message": "was running",
        "url": "http://localhost:9100/vanished-agent/", "image": "nasiko-agent/vanished-agent:abc",
        "container_id": "0123", "last_updated": "", "upload_id": "u1"})
    client.hset(status_key("still-building"), mapping={"agent_name": "still-building", "status": "building"})

    assert reconcile_statuses(client, engine) == ["vanished-agent"]

    record = client.hgetall(status_key("vanished-agent"))
    assert (record["status"], record["stage"]) == ("failed", "gone")
    assert "deploy it again" in record["message"]
    assert record["image"] == "nasiko-agent/vanished-agent:abc", "what was deployed stays on record"
    assert client.hgetall(status_key("still-building"))["status"] == "building", "in-progress work is left alone"
