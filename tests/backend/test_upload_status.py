"""PUT /upload-status/agent/{name}/latest: the worker's callback."""

from tests.backend.zips import AGENT_FILES, make_zip


def upload_id_of_new_upload(client, name="demo") -> str:
    response = client.post(
        "/api/v1/agents/upload",
        data={"agent_name": name},
        files={"file": ("a.zip", make_zip(AGENT_FILES), "application/zip")},
    )
    return response.json()["upload_id"]


def test_callback_updates_the_newest_upload_of_the_agent(client):
    older = upload_id_of_new_upload(client)
    newest = upload_id_of_new_upload(client)

    response = client.put(
        "/api/v1/upload-status/agent/demo/latest",
        json={
            "status": "running",
            "stage": "ready",
            "message": "ready",
            "url": "http://localhost:9100/demo/",
            "image": "nasiko-agent/demo:abc",
            "container_id": "c1",
        },
    )

    assert response.status_code == 200, response.text
    by_id = {u["upload_id"]: u for u in client.get("/api/v1/user/upload-agents").json()["uploads"]}
    assert (by_id[newest]["status"], by_id[newest]["image"], by_id[newest]["container_id"]) == (
        "running",
        "nasiko-agent/demo:abc",
        "c1",
    )
    assert by_id[older]["status"] == "uploaded"


def test_callback_naming_an_upload_updates_that_one(client):
    older = upload_id_of_new_upload(client)
    upload_id_of_new_upload(client)

    client.put("/api/v1/upload-status/agent/demo/latest", json={"status": "failed", "upload_id": older})

    by_id = {u["upload_id"]: u["status"] for u in client.get("/api/v1/user/upload-agents").json()["uploads"]}
    assert sorted(by_id.values()) == ["failed", "uploaded"]
    assert by_id[older] == "failed"


def test_callback_for_an_agent_without_uploads_is_404(client):
    response = client.put("/api/v1/upload-status/agent/ghost/latest", json={"status": "running"})

    assert response.status_code == 404
    assert "ghost" in response.json()["detail"]


def test_a_running_deployment_is_recorded_in_the_registry_with_the_gateway_url(client):
    upload_id = upload_id_of_new_upload(client)
    assert client.get("/api/v1/registries", params={"name": "demo"}).json() == []

    client.put("/api/v1/upload-status/agent/demo/latest",
               json={"status": "running", "image": "nasiko-agent/demo:abc", "upload_id": upload_id})

    [record] = client.get("/api/v1/registries", params={"name": "demo"}).json()
    assert record["url"] == "http://localhost:9100/demo/"
    assert (record["status"], record["image"]) == ("running", "nasiko-agent/demo:abc")
    assert record["card"]["name"] and record["card"]["url"] == "http://localhost:9100/demo/"
    assert client.get("/api/v1/registry/agent/name/demo").json()["name"] == "demo"


def test_a_failed_redeploy_leaves_the_registry_record_of_the_running_version(client):
    first = upload_id_of_new_upload(client)
    client.put("/api/v1/upload-status/agent/demo/latest", json={"status": "running", "image": "v1", "upload_id": first})
    second = upload_id_of_new_upload(client)
    client.put("/api/v1/upload-status/agent/demo/latest", json={"status": "failed", "upload_id": second})

    assert client.get("/api/v1/registry/agent/name/demo").json()["image"] == "v1"


def test_the_workers_removal_drops_the_record_even_after_a_late_running_callback(client):
    upload_id = upload_id_of_new_upload(client)
    client.delete("/api/v1/agents/demo")  # record dropped at once, removal queued
    # The deployment that was still running finishes, then the worker removes the agent: in that order.
    client.put("/api/v1/upload-status/agent/demo/latest", json={"status": "running", "upload_id": upload_id})
    response = client.put("/api/v1/upload-status/agent/demo/latest", json={"status": "removed", "upload_id": "r1"})

    assert response.status_code == 200, response.text
    assert client.get("/api/v1/registry/agent/name/demo").status_code == 404
