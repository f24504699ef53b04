"""Registry records always carry the agent's gateway URL."""

import pytest


def test_record_without_url_gets_the_gateway_url(client):
    response = client.put("/api/v1/registry/agent/demo", json={"status": "running", "image": "img:1"})

    assert response.status_code == 200, response.text
    assert response.json()["url"] == "http://localhost:9100/demo/"
    stored = client.get("/api/v1/registry/agent/name/demo").json()
    assert (stored["name"], stored["url"], stored["image"]) == (
        "demo",
        "http://localhost:9100/demo/",
        "img:1",
    )


@pytest.mark.parametrize(
    "url", ["http://172.18.0.5:5000/", "http://demo:5000/", "http://localhost:9100/other/"]
)
def test_record_with_a_url_other_than_the_gateway_is_refused(client, url):
    response = client.put("/api/v1/registry/agent/demo", json={"url": url})

    assert response.status_code == 422
    assert "http://localhost:9100/demo/" in response.json()["detail"]
    assert client.get("/api/v1/registry/agent/name/demo").status_code == 404


def test_record_with_the_gateway_url_is_stored_once_per_name(client):
    client.put("/api/v1/registry/agent/demo", json={"url": "http://localhost:9100/demo", "image": "img:1"})
    client.put("/api/v1/registry/agent/demo", json={"url": "http://localhost:9100/demo/", "image": "img:2"})
    client.put("/api/v1/registry/agent/other", json={})

    assert [r["name"] for r in client.get("/api/v1/registries").json()] == ["demo", "other"]
    [only] = client.get("/api/v1/registries", params={"name": "demo"}).json()
    assert (only["image"], only["url"]) == ("img:2", "http://localhost:9100/demo/")


def test_unknown_agent_is_404(client):
    assert client.get("/api/v1/registry/agent/name/ghost").status_code == 404
