"""Which containers are agents: filtering on data shaped like Docker's
`GET /containers/json`, the answer `select_agents` receives in production."""

import pytest

from nasiko_registry.discovery import find_agent, health_of, select_agents
from nasiko_registry.events import is_relevant


def container(name: str, *, network: str = "agents", labels: dict | None = None, status: str = "Up 2 seconds",
              agent: str | None = None) -> dict:
    all_labels = {"nasiko.agent": agent or name, "nasiko.port": "5000", "nasiko.content-hash": f"h-{name}",
                  "nasiko.image": f"nasiko/{name}:h"}
    all_labels.update(labels or {})
    return {
        "Id": f"id-{name}-{network}",
        "Names": [f"/{name}"],
        "Image": f"sha256:{name}",
        "Labels": all_labels,
        "State": "running",
        "Status": status,
        "NetworkSettings": {"Networks": {network: {"IPAddress": "172.30.0.2"}}},
    }


@pytest.fixture
def engine_listing() -> list[dict]:
    """Two networks, `agents` (ours) and `agents-test`, and look-alike names."""
    return [
        container("weather"),
        container("weather-old", agent="weather"),  # renamed old container, same agent label
        container("weather2"),
        container("weather", network="agents-test"),
        container("weatherman", network="agents-test"),
        {"Id": "id-redis", "Names": ["/redis"], "Labels": {"nasiko.stack": "true"}, "State": "running",
         "NetworkSettings": {"Networks": {"agents": {}}}},
    ]


def test_lookup_of_weather_finds_exactly_one_container_on_the_agent_network(engine_listing):
    selection = select_agents(engine_listing, "agents")
    matches = [a for a in selection.agents if a.name == "weather"]
    assert len(matches) == 1
    found = find_agent(selection.agents, "weather")
    assert found is not None and found.container_id == "id-weather-agents"


def test_only_labelled_containers_on_the_exact_network_are_agents(engine_listing):
    assert [a.name for a in select_agents(engine_listing, "agents").agents] == ["weather", "weather2"]
    assert [a.name for a in select_agents(engine_listing, "agents-test").agents] == ["weather", "weatherman"]
    # A prefix of a network name is not that network.
    assert select_agents(engine_listing, "agent").agents == []


def test_find_agent_never_matches_a_prefix_or_pattern(engine_listing):
    agents = select_agents(engine_listing, "agents").agents
    assert find_agent(agents, "weath") is None
    assert find_agent(agents, "weather.*") is None
    assert find_agent(agents, "weather2").name == "weather2"


def test_a_container_whose_label_differs_from_its_name_is_skipped_with_the_reason(engine_listing):
    skipped = select_agents(engine_listing, "agents").skipped
    assert [s.container_name for s in skipped] == ["weather-old"]
    assert "does not match the container name 'weather-old'" in skipped[0].reason


def test_bad_labels_skip_that_container_only():
    listing = [container("weather", labels={"nasiko.port": "http"}), container("news")]
    selection = select_agents(listing, "agents")
    assert [a.name for a in selection.agents] == ["news"]
    assert "nasiko.port='http' is not a port number" in selection.skipped[0].reason


def test_decoded_candidate_carries_labels_health_and_address():
    agent = select_agents([container("weather", status="Up 1 minute (unhealthy)")], "agents").agents[0]
    assert agent.labels.port == 5000
    assert agent.labels.content_hash == "h-weather"
    assert agent.image == "nasiko/weather:h"
    assert agent.health == "unhealthy"
    assert agent.address == "172.30.0.2"


@pytest.mark.parametrize(("status", "health"), [
    ("Up 3 seconds (healthy)", "healthy"),
    ("Up 3 seconds (health: starting)", "starting"),
    ("Up 3 seconds (unhealthy)", "unhealthy"),
    ("Up 3 seconds", "none"),
])
def test_health_is_read_from_the_status_line(status, health):
    assert health_of(status) == health


def test_only_agent_container_events_and_agent_network_events_trigger_a_sync():
    attributes = {"nasiko.agent": "w", "name": "w"}
    agent = {"Type": "container", "Action": "start", "Actor": {"Attributes": attributes}}
    health = {**agent, "Action": "health_status: healthy"}
    other = {"Type": "container", "Action": "start", "Actor": {"Attributes": {"name": "redis"}}}
    exec_event = {**agent, "Action": "exec_start: sh"}
    joined = {"Type": "network", "Action": "connect", "Actor": {"Attributes": {"name": "agents"}}}
    elsewhere = {"Type": "network", "Action": "connect", "Actor": {"Attributes": {"name": "agents-test"}}}
    assert is_relevant(agent, "agents") and is_relevant(health, "agents") and is_relevant(joined, "agents")
    assert not any(is_relevant(e, "agents") for e in (other, exec_event, elsewhere))
