"""Rendering the whole Kong declarative config from the routed agents."""

import yaml

from nasiko_registry.render import (
    FORMAT_VERSION,
    RouteTarget,
    agent_of,
    config_hash,
    dump,
    render_config,
)
from tests.registry.kong_semantics import route

PLATFORM = ["nasiko-backend", "nasiko-router", "nasiko-auth", "nasiko-web", "kong-service-registry"]


def names(config: dict) -> list[str]:
    return [service["name"] for service in config["services"]]


def test_zero_agents_render_only_the_platform_routes():
    config = render_config([])
    assert config["_format_version"] == FORMAT_VERSION == "3.0"
    assert names(config) == PLATFORM
    assert route(config, "/api/v1/healthcheck") == ("nasiko-backend", "/api/v1/healthcheck")
    assert route(config, "/router/route") == ("nasiko-router", "/route")
    assert route(config, "/auth/token") == ("nasiko-auth", "/token")
    assert route(config, "/app/") == ("nasiko-web", "/")
    assert route(config, "/status") == ("kong-service-registry", "/")
    assert config["services"][-1]["url"] == "http://kong-service-registry:8080/status"


def test_one_agent_gets_a_named_service_and_route_at_its_name_with_strip_path():
    config = render_config([RouteTarget("weather", "weather", 5000)])
    service = config["services"][-1]
    assert service["name"] == "weather"
    assert service["url"] == "http://weather:5000"
    assert service["routes"][0]["name"] == "weather"
    assert service["routes"][0]["strip_path"] is True
    assert agent_of(service["tags"]) == "weather"
    assert route(config, "/weather/health") == ("weather", "/health")
    card = "/.well-known/agent-card.json"
    assert route(config, f"/weather{card}") == ("weather", card)
    assert route(config, "/weather") == ("weather", "/")


def test_many_agents_are_rendered_in_name_order_so_the_hash_is_stable():
    targets = [RouteTarget(n, n, 5000) for n in ("zeta", "alpha", "mid")]
    config = render_config(targets)
    assert names(config) == PLATFORM + ["alpha", "mid", "zeta"]
    assert config_hash(dump(config)) == config_hash(dump(render_config(list(reversed(targets)))))


def test_prefix_collision_guard_keeps_weatherman_away_from_weather():
    config = render_config([RouteTarget(n, n, 5000) for n in ("weather", "weather2")])
    assert route(config, "/weatherman/x") is None
    assert route(config, "/weatherman") is None
    assert route(config, "/weather2/x") == ("weather2", "/x")
    assert route(config, "/weather/x") == ("weather", "/x")
    # The platform routes are guarded the same way.
    assert route(config, "/apis") is None
    assert route(config, "/statusx") is None


def test_dumped_yaml_round_trips_to_the_same_config():
    config = render_config([RouteTarget("weather", "weather", 5000)])
    text = dump(config)
    assert text.startswith("# Written by kong-service-registry")
    assert yaml.safe_load(text) == config
