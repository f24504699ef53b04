"""POST /orchestration/deploy, GET /orchestration/status and /events."""

import threading
import time

import pytest
import redis

from tests.backend.zips import AGENT_FILES, make_zip

COMMAND_FIELDS = {
    "command",
    "agent_name",
    "agent_path",
    "base_url",
    "owner_id",
    "upload_id",
    "upload_type",
    "timestamp",
    "source",
}
STATUS_FIELDS = {
    "agent_name",
    "status",
    "stage",
    "message",
    "url",
    "container_id",
    "image",
    "last_updated",
    "upload_id",
}


@pytest.fixture
def rdb(backend_settings):
    client = redis.Redis.from_url(backend_settings.redis_url, decode_responses=True)
    yield client
    client.close()


def uploaded(client, name="demo") -> dict:
    response = client.post(
        "/api/v1/agents/upload",
        data={"agent_name": name},
        files={"file": ("a.zip", make_zip(AGENT_FILES), "application/zip")},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_deploy_queues_a_command_with_every_contract_field(client, rdb, backend_settings):
    upload = uploaded(client)

    response = client.post("/api/v1/orchestration/deploy", json={"agent_name": "demo"})

    assert response.status_code == 202, response.text
    body = response.json()
    assert body == {
        "agent_name": "demo",
        "upload_id": body["upload_id"],
        "status": "queued",
        "events_url": "/api/v1/orchestration/events/demo?after=0",
        "status_url": "/api/v1/orchestration/status/demo",
    }
    [(_, fields)] = rdb.xrange("orchestration:commands")
    assert set(fields) == COMMAND_FIELDS
    assert fields["command"] == "deploy_agent"
    assert fields["agent_name"] == "demo"
    assert fields["agent_path"] == upload["agent_path"]  # the latest upload
    assert fields["upload_id"] == body["upload_id"]
    assert fields["base_url"] == backend_settings.backend_url
    assert fields["timestamp"].endswith("+00:00")


def test_deploy_without_agent_path_uses_the_latest_upload(client, rdb):
    uploaded(client)
    newest = uploaded(client)

    client.post("/api/v1/orchestration/deploy", json={"agent_name": "demo"})

    [(_, fields)] = rdb.xrange("orchestration:commands")
    assert fields["agent_path"] == newest["agent_path"]


def test_deploy_of_an_agent_never_uploaded_says_to_upload_first(client, rdb):
    response = client.post("/api/v1/orchestration/deploy", json={"agent_name": "ghost"})

    assert response.status_code == 404
    assert "upload it first" in response.json()["detail"]
    assert rdb.xlen("orchestration:commands") == 0


def test_deploy_of_a_folder_under_an_allowed_root_snapshots_it_into_uploads(
    client, rdb, tmp_path, backend_settings
):
    folder = tmp_path / "shared" / "demo"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM python:3.12-slim\n")

    response = client.post(
        "/api/v1/orchestration/deploy", json={"agent_name": "demo", "agent_path": str(folder)}
    )

    assert response.status_code == 202, response.text
    [(_, fields)] = rdb.xrange("orchestration:commands")
    snapshot = backend_settings.uploads_dir / "demo" / response.json()["upload_id"]
    assert (fields["agent_path"], fields["upload_type"]) == (str(snapshot), "directory")
    assert (snapshot / "Dockerfile").read_text() == "FROM python:3.12-slim\n"


def test_deploy_of_a_folder_inside_uploads_uses_it_as_it_is(client, rdb):
    stored = uploaded(client)["agent_path"]

    response = client.post("/api/v1/orchestration/deploy", json={"agent_name": "demo", "agent_path": stored})

    assert response.status_code == 202, response.text
    [(_, fields)] = rdb.xrange("orchestration:commands")
    assert (fields["agent_path"], fields["upload_type"]) == (stored, "path")


def test_deploy_refuses_a_folder_the_worker_cannot_see(client, rdb, tmp_path):
    response = client.post(
        "/api/v1/orchestration/deploy", json={"agent_name": "demo", "agent_path": str(tmp_path)}
    )

    assert response.status_code == 422
    assert "outside the folders the backend and the worker share" in response.json()["detail"]
    assert rdb.xlen("orchestration:commands") == 0


@pytest.mark.parametrize("name", ["WeatherAgent", "weather.agent", "agent___x!", "a", "a" * 64, "kong", "mongodb"])
def test_deploy_refuses_invalid_or_reserved_names_with_422(client, rdb, name):
    response = client.post("/api/v1/orchestration/deploy", json={"agent_name": name})

    assert response.status_code == 422
    assert repr(name) in response.json()["detail"]
    assert rdb.xlen("orchestration:commands") == 0


def test_deploy_replaces_the_whole_previous_status(client, rdb):
    uploaded(client)
    rdb.hset(
        "agent:status:demo",
        mapping={
            "agent_name": "demo",
            "status": "running",
            "stage": "ready",
            "message": "old",
            "url": "http://localhost:9100/demo/",
            "container_id": "abc123",
            "image": "demo:old",
            "last_updated": "2020-01-01T00:00:00+00:00",
            "upload_id": "old",
            "leftover": "stale",
        },
    )

    upload_id = client.post("/api/v1/orchestration/deploy", json={"agent_name": "demo"}).json()["upload_id"]

    status = client.get("/api/v1/orchestration/status/demo").json()
    assert set(status) == STATUS_FIELDS
    assert (
        status["status"],
        status["url"],
        status["container_id"],
        status["image"],
        status["upload_id"],
    ) == ("queued", "", "", "", upload_id)


def test_status_of_an_unknown_agent_is_404(client):
    assert client.get("/api/v1/orchestration/status/nobody").status_code == 404


def test_deploy_records_a_queued_event_and_upload_document(client):
    upload_id = uploaded(client)["upload_id"]
    deploy_id = client.post("/api/v1/orchestration/deploy", json={"agent_name": "demo"}).json()["upload_id"]

    events = client.get("/api/v1/orchestration/events/demo", params={"after": "0"}).json()["events"]
    uploads = client.get("/api/v1/user/upload-agents", params={"agent_name": "demo"}).json()["uploads"]

    assert [(e["kind"], e["status"], e["upload_id"]) for e in events] == [("stage", "queued", deploy_id)]
    assert set(events[0]) == {"id", "upload_id", "kind", "status", "stage", "message", "timestamp"}
    assert [(u["upload_id"], u["status"]) for u in uploads] == [
        (deploy_id, "queued"),
        (upload_id, "uploaded"),
    ]


def test_events_long_poll_returns_as_soon_as_an_event_arrives(client, rdb):
    def publish_later():
        time.sleep(0.5)
        rdb.xadd(
            "agent:events:demo",
            {
                "upload_id": "u1",
                "kind": "result",
                "status": "running",
                "stage": "ready",
                "message": "up",
                "timestamp": "t",
            },
        )

    threading.Thread(target=publish_later).start()
    started = time.monotonic()
    body = client.get("/api/v1/orchestration/events/demo", params={"after": "0", "wait": 2}).json()
    elapsed = time.monotonic() - started

    assert [e["kind"] for e in body["events"]] == ["result"]
    assert body["last_id"] == body["events"][0]["id"]
    assert 0.4 < elapsed < 1.8


def test_events_long_poll_is_bounded_and_keeps_the_cursor(client, backend_settings):
    started = time.monotonic()
    body = client.get("/api/v1/orchestration/events/demo", params={"after": "5-0", "wait": 60}).json()
    elapsed = time.monotonic() - started

    assert body == {"events": [], "last_id": "5-0"}
    # Capped at EVENTS_MAX_WAIT_SECONDS (2 s in these tests), not the 60 asked for.
    assert (
        backend_settings.events_max_wait_seconds - 0.2
        < elapsed
        < backend_settings.events_max_wait_seconds + 2
    )


def test_events_after_a_cursor_skip_what_was_already_seen(client, rdb):
    first = rdb.xadd("agent:events:demo", {"kind": "stage", "status": "building"})
    second = rdb.xadd("agent:events:demo", {"kind": "log", "message": "Step 1/4"})

    body = client.get("/api/v1/orchestration/events/demo", params={"after": first}).json()

    assert [e["id"] for e in body["events"]] == [second]


def test_events_cursor_that_is_not_a_stream_id_is_refused(client):
    response = client.get("/api/v1/orchestration/events/demo", params={"after": "yesterday"})

    assert response.status_code == 422
