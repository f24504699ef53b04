"""DELETE /agents/{name}: the worker removes the container, the backend the record."""

import redis


def test_delete_queues_remove_agent_and_drops_the_registry_record(client, backend_settings):
    client.put("/api/v1/registry/agent/demo", json={})

    response = client.delete("/api/v1/agents/demo")

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    [(_, fields)] = redis.Redis.from_url(backend_settings.redis_url, decode_responses=True).xrange(
        "orchestration:commands"
    )
    assert (fields["command"], fields["agent_name"], fields["upload_id"]) == (
        "remove_agent",
        "demo",
        response.json()["upload_id"],
    )
    assert client.get("/api/v1/registry/agent/name/demo").status_code == 404


def test_delete_of_a_reserved_name_is_refused(client):
    assert client.delete("/api/v1/agents/redis").status_code == 422


def test_delete_of_an_agent_never_deployed_is_404_saying_so(client):
    response = client.delete("/api/v1/agents/never-deployed")
    assert response.status_code == 404
    assert response.json()["detail"] == "never-deployed is not deployed (no deployment recorded)"
