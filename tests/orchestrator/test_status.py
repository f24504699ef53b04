import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from orchestrator.status import BackendCallback, DeploymentStatus, events_key, status_key
from tests.utils.redis_server import free_port


@pytest.fixture
def client(redis_url):
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


@pytest.fixture
def backend():
    """A scripted HTTP peer standing in for the backend's upload-status endpoint."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_a_new_deployment_replaces_the_whole_status_hash(client):
    old = DeploymentStatus(client, "echo", "u1")
    old.result("running", "up", url="http://localhost:9100/echo/", container_id="c1", image="img:1")
    new = DeploymentStatus(client, "echo", "u2")
    new.stage("processing", "validating", "checking")
    assert client.hgetall(status_key("echo")) == {
        "agent_name": "echo",
        "status": "processing",
        "stage": "validating",
        "message": "checking",
        "url": "",
        "container_id": "",
        "image": "",
        "upload_id": "u2",
        "last_updated": client.hget(status_key("echo"), "last_updated"),
    }


def test_events_carry_kind_status_stage_and_end_with_the_result(client):
    status = DeploymentStatus(client, "echo", "u1")
    status.stage("building", "building", "image x")
    status.log("Step 1/5 : FROM python:3.12-slim")
    status.result("failed", "build failed")
    events = [fields for _, fields in client.xrange(events_key("echo"))]
    assert [(e["kind"], e["status"], e["stage"], e["message"]) for e in events] == [
        ("stage", "building", "building", "image x"),
        ("log", "building", "building", "Step 1/5 : FROM python:3.12-slim"),
        ("result", "failed", "failed", "build failed"),
    ]
    assert all(e["upload_id"] == "u1" and e["timestamp"].endswith("Z") for e in events)


def test_backend_hears_each_stage_change_with_the_contract_fields(client, backend):
    url, received = backend
    callback = BackendCallback(url)
    status = DeploymentStatus(client, "echo", "u1", callback)
    status.stage("processing", "validating", "checking")
    status.log("a log line is not a stage change")
    status.result("running", "up", url="http://localhost:9100/echo/", container_id="c1", image="img:1")
    assert callback.flush()
    callback.close()
    assert [path for path, _ in received] == ["/api/v1/upload-status/agent/echo/latest"] * 2
    assert received[-1][1] == {
        "status": "running",
        "stage": "done",
        "message": "up",
        "url": "http://localhost:9100/echo/",
        "image": "img:1",
        "container_id": "c1",
        "upload_id": "u1",
    }


def test_an_unreachable_backend_never_fails_the_deployment(client, caplog):
    callback = BackendCallback(f"http://127.0.0.1:{free_port()}")
    status = DeploymentStatus(client, "echo", "u1", callback)
    status.result("running", "up")
    assert client.hget(status_key("echo"), "status") == "running"
    assert callback.flush()
    callback.close()
    assert any("backend callback" in record.getMessage() for record in caplog.records)
