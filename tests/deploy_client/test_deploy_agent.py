"""deploy_agent / remove_agent: the client side of `invoke deploy-agent`."""

import json
import os

import httpx
import pytest
import redis

from nasiko_local.deploy import DeployFailed, deploy_agent, remove_agent
from nasiko_local.errors import NasikoError
from tests.deploy_client.fake_worker import FakeWorker
from tests.utils.redis_server import free_port


def test_deploy_returns_the_running_agent_and_reports_every_event(backend, backend_settings, agent_folder):
    seen = []
    with FakeWorker(backend_settings.redis_url) as worker:
        result = deploy_agent("demo", agent_folder, backend_url=backend.url, on_event=seen.append, timeout=30)

    assert (result.name, result.status) == ("demo", "running")
    assert result.url == "http://localhost:9100/demo/"
    assert result.image == "nasiko-agent/demo:abc123"
    assert result.registry_url == "http://localhost:8080/agents/demo"
    assert result.last_log_lines == ["Step 1/3", "Step 2/3", "Step 3/3"]
    assert result.duration_s > 0
    assert [(e["kind"], e["stage"]) for e in seen] == [
        ("stage", "validate"),
        ("stage", "upload"),
        ("stage", "queued"),
        ("stage", "build"),
        ("log", "build"),
        ("log", "build"),
        ("log", "build"),
        ("result", "ready"),
    ]
    [command] = worker.commands
    assert (command["command"], command["agent_name"], command["upload_id"]) == (
        "deploy_agent",
        "demo",
        result.upload_id,
    )
    json.dumps(result.to_dict())  # --json output is serialisable


def test_uploaded_sources_honour_dockerignore_but_keep_the_contract_files(
    backend, backend_settings, agent_folder
):
    (agent_folder / ".dockerignore").write_text("**/__pycache__\n.env\ndocker-compose.yml\nAgentCard.json\n")
    with FakeWorker(backend_settings.redis_url) as worker:
        result = deploy_agent("demo", agent_folder, backend_url=backend.url, timeout=30)

    assert worker.sources[result.upload_id] == [
        ".dockerignore",
        "AgentCard.json",
        "Dockerfile",
        "agent.py",
        "docker-compose.yml",
        "requirements.txt",
    ]


def test_failed_build_raises_with_the_message_and_last_log_lines(backend, backend_settings, agent_folder):
    with (
        FakeWorker(backend_settings.redis_url, outcome="failed", log_lines=30),
        pytest.raises(DeployFailed) as failure,
    ):
        deploy_agent("demo", agent_folder, backend_url=backend.url, timeout=30)

    assert "pip install exited with 1" in failure.value.message
    assert failure.value.result.status == "failed"
    assert failure.value.result.last_log_lines == [f"Step {n}/30" for n in range(11, 31)]
    assert "Step 30/30" in failure.value.hint


def test_events_of_an_earlier_deployment_are_not_mistaken_for_this_one(
    backend, backend_settings, agent_folder
):
    redis.Redis.from_url(backend_settings.redis_url).xadd(
        "agent:events:demo",
        {
            "upload_id": "older",
            "kind": "result",
            "status": "failed",
            "stage": "build",
            "message": "old failure",
            "timestamp": "t",
        },
    )
    with FakeWorker(backend_settings.redis_url):
        result = deploy_agent("demo", agent_folder, backend_url=backend.url, timeout=30)

    assert result.status == "running"


def test_stack_not_running_says_to_run_invoke_up(agent_folder):
    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=f"http://127.0.0.1:{free_port()}", timeout=5)

    assert "the stack is not running" in failure.value.message
    assert "invoke up" in failure.value.hint


def test_folder_without_dockerfile_is_refused_before_anything_is_sent(agent_folder):
    (agent_folder / "Dockerfile").unlink()

    # An unreachable backend proves nothing was sent: the folder error comes first.
    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=f"http://127.0.0.1:{free_port()}")

    assert "no Dockerfile" in failure.value.message


@pytest.mark.parametrize(
    ("card", "expected"),
    [("{not json", "not valid JSON"), ('{"name": "demo"}', "lacks required AgentCard fields")],
)
def test_bad_agent_card_is_refused_saying_what_to_fix(agent_folder, card, expected):
    (agent_folder / "AgentCard.json").write_text(card)

    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=f"http://127.0.0.1:{free_port()}")

    assert expected in failure.value.message
    assert "AgentCard.json" in failure.value.hint


def test_missing_folder_and_invalid_name_are_refused(tmp_path):
    with pytest.raises(NasikoError, match="does not exist"):
        deploy_agent("ghost", agents_dir=tmp_path)
    with pytest.raises(NasikoError, match="not a valid DNS label"):
        deploy_agent("Weather_Agent", tmp_path)


def test_an_empty_path_is_refused_rather_than_read_as_the_default_folder(tmp_path):
    with pytest.raises(NasikoError, match="--path is empty"):
        deploy_agent("echo", "", agents_dir=tmp_path)


def test_upload_over_the_size_limit_is_refused_with_a_dockerignore_hint(
    backend, agent_folder, backend_settings
):
    (agent_folder / "data.bin").write_bytes(os.urandom(backend_settings.max_upload_bytes + 1))

    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=backend.url, timeout=5)

    assert "HTTP 413" in failure.value.message
    assert ".dockerignore" in failure.value.hint


def test_no_worker_ends_with_a_timeout_pointing_at_the_worker(backend, agent_folder):
    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=backend.url, timeout=1.5)

    assert "no result" in failure.value.message
    assert "nasiko-worker" in failure.value.hint


def test_remove_agent_waits_for_the_worker_and_drops_the_record(backend, backend_settings):
    httpx.put(f"{backend.url}/api/v1/registry/agent/demo", json={})
    with FakeWorker(backend_settings.redis_url) as worker:
        result = remove_agent("demo", backend_url=backend.url, timeout=10)

    assert (result.status, result.message) == ("removed", "demo removed")
    assert [c["command"] for c in worker.commands] == ["remove_agent"]
    assert httpx.get(f"{backend.url}/api/v1/registry/agent/name/demo").status_code == 404


def test_remove_agent_also_ends_when_the_worker_only_deletes_the_status(backend, backend_settings):
    httpx.put(f"{backend.url}/api/v1/registry/agent/demo", json={})
    with FakeWorker(backend_settings.redis_url, remove_result_event=False):
        result = remove_agent("demo", backend_url=backend.url, timeout=10)

    assert result.status == "removed"
    assert result.duration_s < 5


def test_remove_agent_without_a_worker_times_out_with_a_hint(backend):
    httpx.put(f"{backend.url}/api/v1/registry/agent/demo", json={})
    with pytest.raises(NasikoError) as failure:
        remove_agent("demo", backend_url=backend.url, timeout=1.5)

    assert "nasiko-worker" in failure.value.hint


def test_removing_an_agent_that_was_never_deployed_says_so(backend):
    with pytest.raises(NasikoError) as failure:
        remove_agent("never-deployed", backend_url=backend.url, timeout=5)

    assert "never-deployed is not deployed" in failure.value.message
    assert "invoke status" in failure.value.hint


def test_a_folder_over_the_upload_limits_is_refused_before_it_is_zipped(agent_folder):
    from nasiko_local.deploy import check_folder

    for index in range(5):
        (agent_folder / f"extra{index}.txt").write_text("x")
    with pytest.raises(NasikoError) as failure:
        check_folder("demo", agent_folder, max_entries=4)
    assert "more than the upload limits (4 files" in failure.value.message
    assert ".dockerignore" in failure.value.hint


def test_a_compose_key_the_worker_would_refuse_is_refused_before_anything_is_sent(agent_folder):
    (agent_folder / "docker-compose.yml").write_text("services:\n  demo:\n    privileged: true\n")

    with pytest.raises(NasikoError) as failure:
        deploy_agent("demo", agent_folder, backend_url=f"http://127.0.0.1:{free_port()}")

    assert "refused by the worker's policy" in failure.value.message
    assert "WORKER_ALLOW_UNSAFE=privileged" in failure.value.message
